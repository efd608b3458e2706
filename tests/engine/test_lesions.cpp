// Lesion-level analysis without a model: distances in anisotropic voxels, rings, TP/FP/FN
// matching with known answers, rank tests against scipy, max-magnitude aggregation (TV7).
#include "engine/analysis/distance_transform.h"
#include "engine/analysis/lesion_maps.h"
#include "engine/analysis/lesions.h"
#include "engine/analysis/rank_tests.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>

using namespace segxai;

namespace {

Geometry grid(Index3 dims, glm::dvec3 spacing = glm::dvec3(1.0)) {
    Geometry g;
    g.dims = dims;
    g.spacing = spacing;
    return g;
}

// Distance from every voxel to the nearest mask voxel, by brute force.
std::vector<double> bruteDistance(const Geometry& g, const std::vector<uint8_t>& mask) {
    std::vector<glm::dvec3> sites;
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i)
                if (mask[g.linearIndex(i, j, k)]) sites.push_back(glm::dvec3(i, j, k) * g.spacing);
    std::vector<double> out(g.voxelCount(), INFINITY);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                double best = INFINITY;
                for (const auto& s : sites)
                    best = std::min(best, glm::length(glm::dvec3(i, j, k) * g.spacing - s));
                out[g.linearIndex(i, j, k)] = best;
            }
    return out;
}

// A segmentation of one foreground class whose probability is 0.9 on `lesion` voxels, 0.1 elsewhere.
Segmentation segmentationOf(const Geometry& g, const std::vector<uint8_t>& lesion) {
    Segmentation s;
    s.classNames = {"background", "lesion"};
    Volume background(g, "p0"), foreground(g, "p1");
    for (size_t n = 0; n < lesion.size(); ++n) {
        foreground.voxels[n] = lesion[n] ? 0.9f : 0.1f;
        background.voxels[n] = 1.0f - foreground.voxels[n];
    }
    s.probabilities = ClassProbabilities(g, 2);
    s.probabilities.offer(0, background.voxels);
    s.probabilities.offer(1, foreground.voxels);
    s.labels = LabelVolume(g, "labels");
    for (size_t n = 0; n < lesion.size(); ++n)
        s.labels.labels[n] = lesion[n];
    return s;
}

void paint(const Geometry& g, std::vector<uint8_t>& mask, Index3 low, Index3 high) {
    for (int64_t k = low[2]; k <= high[2]; ++k)
        for (int64_t j = low[1]; j <= high[1]; ++j)
            for (int64_t i = low[0]; i <= high[0]; ++i)
                mask[g.linearIndex(i, j, k)] = 1;
}

} // namespace

TEST_CASE("the distance transform is exact in anisotropic voxels", "[lesions]") {
    const Geometry g = grid({17, 13, 9}, {0.7, 1.3, 2.5});
    std::mt19937 random(7);
    std::vector<uint8_t> mask(g.voxelCount(), 0);
    for (int n = 0; n < 12; ++n)
        mask[random() % mask.size()] = 1;
    const std::vector<float> fast = distanceToMask(g, mask);
    const std::vector<double> slow = bruteDistance(g, mask);
    double worst = 0.0;
    for (size_t n = 0; n < fast.size(); ++n)
        worst = std::max(worst, std::abs(double(fast[n]) - slow[n]));
    CHECK(worst < 1e-5);
    // An empty mask is infinitely far; dilation by r keeps exactly the voxels within r mm.
    CHECK(std::isinf(distanceToMask(g, std::vector<uint8_t>(g.voxelCount(), 0))[0]));
    const std::vector<uint8_t> dilated = dilateMm(g, mask, 2.6);
    for (size_t n = 0; n < dilated.size(); ++n)
        CHECK(bool(dilated[n]) == (slow[n] <= 2.6 + 1e-9));
}

TEST_CASE("rings are measured in mm with the true spacing", "[lesions]") {
    // One lesion voxel in voxels of 1 x 1 x 3 mm: the voxels 3 mm above and below it fall in
    // the 2-4 mm ring, not the first.
    const Geometry g = grid({21, 21, 9}, {1.0, 1.0, 3.0});
    std::vector<uint8_t> lesion(g.voxelCount(), 0);
    lesion[g.linearIndex(10, 10, 4)] = 1;
    Volume map(g, "map");
    for (float& v : map.voxels)
        v = -1.0f;
    map.at(10, 10, 4) = 2.0f;
    const RingProfile profile = ringProfile(map, g, lesion);
    REQUIRE(profile.regions.size() == 5);
    // Expected counts by brute force.
    std::map<std::string, int64_t> expected;
    const std::vector<double> distance = bruteDistance(g, lesion);
    for (size_t n = 0; n < distance.size(); ++n) {
        const double d = distance[n];
        if (d == 0.0)
            ++expected["inside"];
        else if (d <= 1.0)
            ++expected["0-1 mm"];
        else if (d <= 2.0)
            ++expected["1-2 mm"];
        else if (d <= 4.0)
            ++expected["2-4 mm"];
        else if (d <= 8.0)
            ++expected["4-8 mm"];
    }
    for (const RingRegion& r : profile.regions) {
        INFO(r.name);
        CHECK(r.voxels == expected[r.name]);
    }
    CHECK(profile.regions[1].voxels == 4); // the in-plane face neighbours at 1 mm
    CHECK(profile.regions[2].voxels == 8); // in-plane diagonals (1.41 mm) and 2 mm along i or j
    CHECK(profile.sharePositiveInside == 1.0);
    CHECK(profile.shareNegativeRim == 1.0);
    CHECK(profile.regions[0].mean == 2.0);
    CHECK(profile.limit == 2.0);
    // 21 bins over [-2, 2]: the inside's 2 in the top bin, the rings' -1 in bin 5 ([-1.05, -0.86)).
    CHECK(profile.regions[0].histogram.back() == 1);
    CHECK(profile.regions[3].histogram[5] == profile.regions[3].voxels);
}

TEST_CASE("lesions are matched to the ground truth as TP, FP and FN", "[lesions]") {
    const Geometry g = grid({30, 20, 10}, {1.0, 1.0, 2.0});
    std::vector<uint8_t> truth(g.voxelCount(), 0), predicted(g.voxelCount(), 0);
    paint(g, truth, {2, 2, 2}, {5, 5, 4});       // A: 48 voxels, found
    paint(g, truth, {20, 2, 2}, {20, 2, 4});     // B: 3 voxels, below the minimum size: not counted
    paint(g, truth, {20, 12, 2}, {23, 15, 3});   // C: 32 voxels, missed
    paint(g, predicted, {4, 4, 3}, {8, 7, 5});   // P1 overlaps A: TP
    paint(g, predicted, {12, 2, 2}, {13, 3, 3}); // P2: 8 voxels, alone: FP
    paint(g, predicted, {2, 17, 8}, {3, 18, 8}); // P3: 4 voxels: dropped
    LabelVolume truthLabels(g, "gt");
    for (size_t n = 0; n < truth.size(); ++n)
        truthLabels.labels[n] = truth[n];
    const LesionSet set = findLesions(segmentationOf(g, predicted), &truthLabels, {});
    REQUIRE(set.lesions.size() == 3);
    CHECK(set.lesions[0].group == LesionGroup::TruePositive);
    CHECK(set.lesions[0].voxels == 5 * 4 * 3);
    CHECK(set.lesions[0].volumeMm3 == Approx(60.0 * 2.0));
    CHECK(*set.lesions[0].distanceMm == 0.0);
    CHECK(set.lesions[1].group == LesionGroup::FalsePositive);
    CHECK(set.lesions[1].voxels == 8);
    CHECK(set.lesions[1].meanProbability == Approx(0.9));
    // P2's nearest voxel (12, 2..3, 2..3) to A's nearest (5, 2..3, 2..3): 7 mm.
    CHECK(*set.lesions[1].distanceMm == Approx(7.0));
    CHECK(set.lesions[2].group == LesionGroup::FalseNegative);
    CHECK(set.lesions[2].voxels == 32);
    CHECK(set.lesions[2].meanProbability == Approx(0.1));
    // Lesion-wise: 1 of 2 ground-truth lesions found, 1 of 2 predictions right.
    CHECK(set.truthLesions == 2);
    CHECK(set.detectedTruthLesions == 1);
    CHECK(set.sensitivity == Approx(0.5));
    CHECK(set.precision == Approx(0.5));
    CHECK(set.f1 == Approx(0.5));
    // Voxel Dice of every predicted voxel (P3 included) against the ground truth.
    size_t both = 0, sum = 0;
    for (size_t n = 0; n < truth.size(); ++n) {
        both += truth[n] && predicted[n];
        sum += truth[n] + predicted[n];
    }
    CHECK(set.voxelDice == Approx(2.0 * double(both) / double(sum)));
    // The ids on the grid: a voxel of the missed lesion, the dropped one.
    CHECK(set.lesionAt({21, 13, 2}) == 3);
    CHECK(set.lesionAt({2, 17, 8}) == 0);
    CHECK(set.lesion(3).representative[0] >= 20);
}

TEST_CASE("lesion connectivity: 18 joins voxels that share an edge, 6 does not", "[lesions]") {
    const Geometry g = grid({12, 12, 3});
    std::vector<uint8_t> predicted(g.voxelCount(), 0);
    paint(g, predicted, {2, 2, 1}, {4, 4, 1}); // 9 voxels
    paint(g, predicted, {5, 5, 1}, {7, 7, 1}); // 9 more, touching the first along an edge
    const Segmentation s = segmentationOf(g, predicted);
    LesionOptions options;
    CHECK(findLesions(s, nullptr, options).lesions.size() == 1);
    options.connectivity = 6;
    const LesionSet six = findLesions(s, nullptr, options);
    REQUIRE(six.lesions.size() == 2);
    CHECK(six.lesions[0].group == LesionGroup::Unmatched);
    CHECK(!six.lesions[0].distanceMm);
    options.minimumSize = 10;
    CHECK(findLesions(s, nullptr, options).lesions.empty());
}

TEST_CASE("Mann-Whitney U and Kruskal-Wallis agree with scipy", "[lesions][statistics]") {
    // scipy.stats.mannwhitneyu(..., alternative='two-sided', method='asymptotic')
    auto u = mannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
    REQUIRE(u);
    CHECK(u->statistic == 0.0);
    CHECK(u->pValue == Approx(0.012185780355344813).epsilon(1e-9));
    u = mannWhitneyU({1.5, 2, 2, 3, 7}, {2, 4, 5, 5, 6, 9});
    REQUIRE(u);
    CHECK(u->statistic == 7.0);
    CHECK(u->pValue == Approx(0.16601056437093298).epsilon(1e-9));
    CHECK(!mannWhitneyU({}, {1.0}));
    // scipy.stats.kruskal
    auto h = kruskalWallis({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {2, 2, 11, 12}});
    REQUIRE(h);
    CHECK(h->statistic == Approx(4.701330376940129).epsilon(1e-9));
    CHECK(h->pValue == Approx(0.09530574484303503).epsilon(1e-9));
    h = kruskalWallis({{2.9, 3.0, 2.5, 2.6, 3.2}, {3.8, 2.7, 4.0, 2.4}, {2.8, 3.4, 3.7, 2.2, 2.0}});
    REQUIRE(h);
    CHECK(h->statistic == Approx(0.7714285714285722).epsilon(1e-9));
    CHECK(h->pValue == Approx(0.6799647735788936).epsilon(1e-9));
    CHECK(!kruskalWallis({{1.0, 2.0}, {}}));
    CHECK(chiSquareSurvival(3.841458820694124, 1.0) == Approx(0.05).epsilon(1e-9));
}

TEST_CASE("TV7: max-magnitude aggregation keeps the signed value of largest magnitude", "[lesions][tv]") {
    const std::vector<float> g1{0.5f, -2.0f, 0.0f}, g2{1.0f, 1.0f, -0.1f};
    const std::vector<float> combined = maxMagnitude(g1, g2);
    CHECK(combined == std::vector<float>{1.0f, -2.0f, -0.1f});
    // The peak of a map over a lesion: its maximum and its value of largest magnitude.
    const Geometry g = grid({3, 1, 1});
    Volume map(g, "map");
    map.voxels = {1.0f, -2.0f, -0.1f};
    const Peak p = peakOf(map, g, {1, 1, 0});
    CHECK(p.maximum == 1.0);
    CHECK(p.maximumMagnitude == -2.0);
}
