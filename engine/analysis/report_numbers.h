#pragma once
// Numbers as the analysis reports write them: JSON null and an empty CSV field for what is not
// a finite number, rank tests as {statistic, p}.
#include "engine/analysis/rank_tests.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

inline double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline nlohmann::json testJson(const std::optional<RankTest>& t) {
    if (!t) return nullptr;
    return {{"statistic", t->statistic}, {"p", t->pValue}};
}

inline nlohmann::json number(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

inline std::string csvNumber(double v) {
    return std::isfinite(v) ? fmt::format("{:.6g}", v) : "";
}

} // namespace segxai
