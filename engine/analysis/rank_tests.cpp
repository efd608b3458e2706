#include "engine/analysis/rank_tests.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace segxai {
namespace {

// Midranks of all values together (1-based), and the tie term sum (t^3 - t).
struct Ranked {
    std::vector<double> ranks;
    double ties = 0.0;
};

Ranked rankAll(const std::vector<double>& values) {
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
    Ranked r;
    r.ranks.assign(values.size(), 0.0);
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]])
            ++j;
        const double midrank = 0.5 * double(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k)
            r.ranks[order[k]] = midrank;
        const double t = double(j - i + 1);
        r.ties += t * t * t - t;
        i = j + 1;
    }
    return r;
}

// Regularised upper incomplete gamma Q(a, x) (Numerical Recipes: series below a + 1,
// continued fraction above).
double gammaQ(double a, double x) {
    if (x <= 0.0) return 1.0;
    const double logPrefix = a * std::log(x) - x - std::lgamma(a);
    if (x < a + 1.0) {
        double sum = 1.0 / a, term = sum, ap = a;
        for (int n = 0; n < 1000; ++n) {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if (std::abs(term) < std::abs(sum) * 1e-15) break;
        }
        return std::max(0.0, 1.0 - sum * std::exp(logPrefix));
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000; ++i) {
        const double an = -double(i) * (double(i) - a);
        b += 2.0;
        d = an * d + b;
        if (std::abs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1.0) < 1e-15) break;
    }
    return std::exp(logPrefix) * h;
}

} // namespace

double chiSquareSurvival(double x, double degrees) {
    return gammaQ(0.5 * degrees, 0.5 * x);
}

std::optional<RankTest> mannWhitneyU(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.empty() || b.empty()) return std::nullopt;
    std::vector<double> all = a;
    all.insert(all.end(), b.begin(), b.end());
    const Ranked r = rankAll(all);
    const double n1 = double(a.size()), n2 = double(b.size()), n = n1 + n2;
    double rankSum = 0.0;
    for (size_t i = 0; i < a.size(); ++i)
        rankSum += r.ranks[i];
    RankTest t;
    t.statistic = rankSum - n1 * (n1 + 1.0) / 2.0;
    const double mean = n1 * n2 / 2.0;
    const double variance = n1 * n2 / 12.0 * ((n + 1.0) - r.ties / (n * (n - 1.0)));
    if (variance <= 0.0) return t; // every value the same: no evidence of a difference
    // Two-sided, continuity-corrected: the larger of U and n1 n2 - U against the mean.
    const double u = std::max(t.statistic, n1 * n2 - t.statistic);
    const double z = (u - mean - 0.5) / std::sqrt(variance);
    t.pValue = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
    return t;
}

std::optional<RankTest> kruskalWallis(const std::vector<std::vector<double>>& samples) {
    std::vector<const std::vector<double>*> groups;
    for (const auto& s : samples) {
        if (!s.empty()) groups.push_back(&s);
    }
    if (groups.size() < 2) return std::nullopt;
    std::vector<double> all;
    for (const auto* g : groups)
        all.insert(all.end(), g->begin(), g->end());
    const Ranked r = rankAll(all);
    const double n = double(all.size());
    double h = 0.0;
    size_t offset = 0;
    for (const auto* g : groups) {
        double sum = 0.0;
        for (size_t i = 0; i < g->size(); ++i)
            sum += r.ranks[offset + i];
        h += sum * sum / double(g->size());
        offset += g->size();
    }
    h = 12.0 / (n * (n + 1.0)) * h - 3.0 * (n + 1.0);
    const double correction = 1.0 - r.ties / (n * n * n - n);
    if (correction <= 0.0) return std::nullopt;
    RankTest t;
    t.statistic = h / correction;
    t.pValue = chiSquareSurvival(t.statistic, double(groups.size() - 1));
    return t;
}

} // namespace segxai
