#pragma once
#include <optional>
#include <vector>

namespace segxai {

struct RankTest {
    double statistic = 0.0; // Mann-Whitney: U of the first sample; Kruskal-Wallis: H
    double pValue = 1.0;    // two-sided
};

// Mann-Whitney U test of two samples, two-sided, by the normal approximation with tie and
// continuity corrections (scipy.stats.mannwhitneyu, method "asymptotic"). Empty when either
// sample is empty.
std::optional<RankTest> mannWhitneyU(const std::vector<double>& a, const std::vector<double>& b);

// Kruskal-Wallis H test of two or more samples, with the tie correction, p from the
// chi-square distribution with (groups - 1) degrees of freedom (scipy.stats.kruskal). Empty
// samples are left out; empty when fewer than two remain or every value is the same.
std::optional<RankTest> kruskalWallis(const std::vector<std::vector<double>>& samples);

// P(X > x) for X chi-square with `degrees` degrees of freedom.
double chiSquareSurvival(double x, double degrees);

} // namespace segxai
