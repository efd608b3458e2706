#include "engine/analysis/explanation_agreement.h"

#include "engine/core/error.h"
#include "engine/explain/map_statistics.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace segxai {
namespace {

// The indices of the `count` largest values (ties broken by index, so the choice is stable).
std::vector<uint8_t> topMask(const std::vector<float>& values, size_t count) {
    std::vector<uint32_t> order(values.size());
    std::iota(order.begin(), order.end(), 0u);
    std::nth_element(order.begin(), order.begin() + ptrdiff_t(count), order.end(),
                     [&](uint32_t a, uint32_t b) { return values[a] != values[b] ? values[a] > values[b] : a < b; });
    std::vector<uint8_t> mask(values.size(), 0);
    for (size_t n = 0; n < count; ++n)
        mask[order[n]] = 1;
    return mask;
}

double pearsonOf(const std::vector<float>& a, const std::vector<float>& b) {
    const double n = double(a.size());
    double meanA = 0.0, meanB = 0.0;
    for (size_t v = 0; v < a.size(); ++v) {
        meanA += a[v] / n;
        meanB += b[v] / n;
    }
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t v = 0; v < a.size(); ++v) {
        const double da = a[v] - meanA, db = b[v] - meanB;
        ab += da * db;
        aa += da * da;
        bb += db * db;
    }
    return aa > 0.0 && bb > 0.0 ? ab / std::sqrt(aa * bb) : 0.0;
}

size_t topCount(size_t voxels, double topFraction) {
    if (!(topFraction > 0.0 && topFraction <= 1.0))
        throw Error(fmt::format("the top fraction must be in (0, 1], not {}", topFraction));
    return std::max<size_t>(1, size_t(std::llround(topFraction * double(voxels))));
}

// What the agreement of a map with others needs, computed once per map.
struct RankedMap {
    std::vector<float> ranks;
    std::vector<uint8_t> top;
};

RankedMap ranked(const Volume& map, size_t count) {
    return {normalisedRanks(map.voxels), topMask(map.voxels, count)};
}

MapAgreement agreementOf(const RankedMap& a, const RankedMap& b, size_t count) {
    size_t common = 0;
    for (size_t v = 0; v < a.top.size(); ++v)
        common += a.top[v] && b.top[v];
    return {pearsonOf(a.ranks, b.ranks), double(common) / double(count)};
}

} // namespace

MapAgreement mapAgreement(const Volume& a, const Volume& b, double topFraction) {
    if (!a.geometry.sameGrid(b.geometry) || a.voxels.size() != b.voxels.size())
        throw Error("explanations compared must be on one grid");
    if (a.voxels.empty()) return {};
    const size_t count = topCount(a.voxels.size(), topFraction);
    return agreementOf(ranked(a, count), ranked(b, count), count);
}

double positiveMassInside(const Volume& map, const Target& target) {
    if (target.mask.size() != map.voxels.size()) throw Error("the target is not on the map's grid");
    double inside = 0.0, total = 0.0;
    for (size_t v = 0; v < map.voxels.size(); ++v) {
        const double positive = std::max(0.0f, map.voxels[v]);
        total += positive;
        if (target.mask[v]) inside += positive;
    }
    return total > 0.0 ? inside / total : 0.0;
}

Volume combinedStudyMap(const Explanation& explanation, const Geometry& studyGrid) {
    if (explanation.maps.empty()) throw Error("the explanation has no map");
    Volume sum = inStudyGrid(explanation.maps.front(), studyGrid);
    for (size_t m = 1; m < explanation.maps.size(); ++m) {
        const Volume channel = inStudyGrid(explanation.maps[m], studyGrid);
        for (size_t v = 0; v < sum.voxels.size(); ++v)
            sum.voxels[v] += channel.voxels[v];
    }
    sum.name = methodId(explanation.method);
    return sum;
}

ExplanationSpread explanationSpread(const std::vector<Volume>& maps, const std::vector<std::string>& names,
                                    const Target& target, double topFraction) {
    if (maps.empty() || maps.size() != names.size()) throw Error("explanation spread: one name per map");
    ExplanationSpread out;
    out.names = names;
    const Geometry& grid = maps.front().geometry;
    for (const Volume& m : maps) {
        if (!m.geometry.sameGrid(grid) || m.voxels.size() != grid.voxelCount())
            throw Error("explanations compared must be on one grid");
    }
    out.mean = Volume(grid, "mean");
    out.deviation = Volume(grid, "deviation");
    const double count = double(maps.size());
    for (size_t v = 0; v < grid.voxelCount(); ++v) {
        double mean = 0.0;
        for (const Volume& m : maps)
            mean += m.voxels[v] / count;
        double squares = 0.0;
        for (const Volume& m : maps)
            squares += (m.voxels[v] - mean) * (m.voxels[v] - mean) / count;
        out.mean.voxels[v] = float(mean);
        out.deviation.voxels[v] = float(std::sqrt(squares));
    }
    out.pairs.assign(maps.size(), std::vector<MapAgreement>(maps.size()));
    const size_t top = topCount(grid.voxelCount(), topFraction);
    std::vector<RankedMap> ranks;
    for (const Volume& m : maps)
        ranks.push_back(ranked(m, top));
    size_t pairCount = 0;
    for (size_t a = 0; a < maps.size(); ++a) {
        out.pairs[a][a] = {1.0, 1.0};
        for (size_t b = a + 1; b < maps.size(); ++b) {
            out.pairs[a][b] = out.pairs[b][a] = agreementOf(ranks[a], ranks[b], top);
            out.meanRankCorrelation += out.pairs[a][b].rankCorrelation;
            out.meanTopOverlap += out.pairs[a][b].topOverlap;
            ++pairCount;
        }
    }
    if (pairCount > 0) {
        out.meanRankCorrelation /= double(pairCount);
        out.meanTopOverlap /= double(pairCount);
    } else {
        out.meanRankCorrelation = out.meanTopOverlap = 1.0;
    }
    for (const Volume& m : maps)
        out.massInside.push_back(positiveMassInside(m, target));
    return out;
}

nlohmann::json spreadSummary(const ExplanationSpread& spread, const Target& target) {
    using nlohmann::json;
    json pairs = json::array();
    for (size_t a = 0; a < spread.names.size(); ++a) {
        for (size_t b = a + 1; b < spread.names.size(); ++b) {
            pairs.push_back({{"a", spread.names[a]},
                             {"b", spread.names[b]},
                             {"rank_correlation", spread.pairs[a][b].rankCorrelation},
                             {"top5_overlap", spread.pairs[a][b].topOverlap}});
        }
    }
    json mass = json::array();
    for (size_t m = 0; m < spread.names.size(); ++m)
        mass.push_back({{"name", spread.names[m]}, {"share", spread.massInside[m]}});
    return {{"target", target.description},
            {"target_voxels", target.voxelCount},
            {"mean_rank_correlation", spread.meanRankCorrelation},
            {"mean_top5_overlap", spread.meanTopOverlap},
            {"positive_mass_inside_target", mass},
            {"pairs", pairs}};
}

} // namespace segxai
