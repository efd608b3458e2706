// An ensemble's uncertainty maps and per-structure figures against closed forms on hand-built
// members (docs/methods.md#uncertainty).
#include "engine/analysis/explanation_agreement.h"
#include "engine/analysis/instance_uncertainty.h"
#include "engine/analysis/intensity_augmentation.h"
#include "engine/analysis/lesion_report.h"
#include "engine/analysis/uncertainty.h"
#include "engine/core/error.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace segxai;
using Catch::Detail::Approx;

namespace {

Geometry grid(int64_t x, int64_t y, int64_t z, double spacing = 1.0) {
    Geometry g;
    g.dims = {x, y, z};
    g.spacing = glm::dvec3(spacing);
    return g;
}

// Two classes: p(class 1) per voxel, the label where class 1 is more probable (or as given).
struct Member {
    ClassProbabilities probabilities;
    LabelVolume labels;
};

Member twoClasses(const Geometry& g, const std::vector<float>& foreground, std::vector<uint16_t> labels = {}) {
    Member m{ClassProbabilities(g, 2), LabelVolume(g, "member")};
    std::vector<float> background(foreground.size());
    for (size_t v = 0; v < foreground.size(); ++v) {
        background[v] = 1.0f - foreground[v];
        m.labels.labels[v] = labels.empty() ? uint16_t(foreground[v] > 0.5f) : labels[v];
    }
    m.probabilities.offer(0, background);
    m.probabilities.offer(1, foreground);
    return m;
}

double h(const std::vector<double>& p) {
    double sum = 0.0;
    for (double q : p)
        sum -= q > 0.0 ? q * std::log(q) : 0.0;
    return sum;
}

} // namespace

TEST_CASE("entropy, mutual information, standard deviation and disagreement match their closed forms",
          "[uncertainty]") {
    const Geometry g = grid(2, 1, 1);
    UncertaintyAccumulator sums(g, {"background", "lesion"}, {1});
    // Voxel 0: members say 0.1 and 0.5 (the second labelled 1); voxel 1: 0.8 and 0.6.
    const Member a = twoClasses(g, {0.1f, 0.8f}), b = twoClasses(g, {0.5f, 0.6f}, {1, 1});
    sums.add(a.probabilities, a.labels, "a");
    sums.add(b.probabilities, b.labels, "b");
    const UncertaintyMaps maps = sums.finish();

    const double entropy0 = h({0.7, 0.3}), expected0 = (h({0.9, 0.1}) + h({0.5, 0.5})) / 2;
    CHECK(maps.entropy.voxels[0] == Approx(entropy0).margin(1e-6));
    CHECK(maps.entropy.voxels[0] == Approx(0.610864).margin(1e-6));
    CHECK(maps.expectedEntropy.voxels[0] == Approx(expected0).margin(1e-6));
    CHECK(maps.mutualInformation.voxels[0] == Approx(entropy0 - expected0).margin(1e-6));
    CHECK(maps.mutualInformation.voxels[0] == Approx(0.101749).margin(1e-6));
    CHECK(maps.classStd.at(0).voxels[0] == Approx(0.2).margin(1e-6)); // values 0.1 and 0.5
    CHECK(maps.labels.labels[0] == 0);
    CHECK(maps.disagreement.voxels[0] == Approx(0.5)); // b said 1

    const double entropy1 = h({0.3, 0.7}), expected1 = (h({0.2, 0.8}) + h({0.4, 0.6})) / 2;
    CHECK(maps.mutualInformation.voxels[1] == Approx(entropy1 - expected1).margin(1e-6));
    CHECK(maps.classStd.at(0).voxels[1] == Approx(0.1).margin(1e-6));
    CHECK(maps.labels.labels[1] == 1);
    CHECK(maps.disagreement.voxels[1] == 0.0f);
    CHECK(maps.probabilities.at(1, size_t(1)) == Approx(0.7).margin(1e-6));
    CHECK(maps.memberNames == std::vector<std::string>{"a", "b"});
}

TEST_CASE("identical members give zero mutual information, deviation and disagreement", "[uncertainty]") {
    const Geometry g = grid(3, 2, 1);
    const Member m = twoClasses(g, {0.1f, 0.5f, 0.9f, 0.3f, 0.7f, 0.99f});
    UncertaintyAccumulator sums(g, {"background", "lesion"}, {1});
    for (int k = 0; k < 4; ++k)
        sums.add(m.probabilities, m.labels, "copy");
    const UncertaintyMaps maps = sums.finish();
    for (size_t v = 0; v < g.voxelCount(); ++v) {
        CHECK(maps.mutualInformation.voxels[v] == Approx(0.0).margin(1e-6));
        CHECK(maps.classStd[0].voxels[v] == Approx(0.0).margin(1e-4));
        CHECK(maps.disagreement.voxels[v] == 0.0f);
        CHECK(maps.entropy.voxels[v] == Approx(maps.expectedEntropy.voxels[v]).margin(1e-6));
    }
    // The entropy of p = 0.5 is ln 2, the largest for two classes.
    CHECK(maps.entropy.voxels[1] == Approx(std::log(2.0)).margin(1e-6));
}

TEST_CASE("a member mirrored back undoes its flip exactly", "[uncertainty]") {
    const Geometry g = grid(3, 2, 2);
    std::vector<float> foreground(g.voxelCount());
    for (size_t v = 0; v < foreground.size(); ++v)
        foreground[v] = float(v) / float(foreground.size());
    const FlipAxes flip{true, false, true};
    // mirrored() twice is the identity, and once moves voxel (i, j, k) to (2 - i, j, 1 - k).
    CHECK(mirrored(mirrored(foreground, g, flip), g, flip) == foreground);
    const std::vector<float> flipped = mirrored(foreground, g, flip);
    CHECK(flipped[g.linearIndex(0, 1, 0)] == foreground[g.linearIndex(2, 1, 1)]);

    const Member plain = twoClasses(g, foreground);
    Member mirroredMember = twoClasses(g, flipped);
    mirroredMember.probabilities.mirror(flip);
    mirroredMember.labels.labels = mirrored(mirroredMember.labels.labels, g, flip);
    UncertaintyAccumulator sums(g, {"background", "lesion"}, {1});
    sums.add(plain.probabilities, plain.labels, "plain");
    sums.add(mirroredMember.probabilities, mirroredMember.labels, "mirrored");
    const UncertaintyMaps maps = sums.finish();
    for (size_t v = 0; v < g.voxelCount(); ++v) {
        CHECK(maps.mutualInformation.voxels[v] == Approx(0.0).margin(1e-6));
        CHECK(maps.disagreement.voxels[v] == 0.0f);
        CHECK(maps.memberLabels[1].labels[v] == plain.labels.labels[v]);
    }
}

TEST_CASE("many classes: the mass a member leaves out counts as one more outcome", "[uncertainty]") {
    const Geometry g = grid(1, 1, 1);
    ClassProbabilities p(g, 6); // more than kKeptPerVoxel: the four most probable are kept
    const float values[] = {0.4f, 0.2f, 0.15f, 0.1f, 0.08f, 0.07f};
    p.setVoxel(0, values);
    LabelVolume labels(g, "member");
    UncertaintyAccumulator sums(g, {"a", "b", "c", "d", "e", "f"}, {});
    sums.add(p, labels, "one");
    const UncertaintyMaps maps = sums.finish();
    // Kept in half precision: 0.4, 0.2, 0.15, 0.1; left out 0.15 as one outcome.
    const double kept = h({p.at(0, size_t(0)), p.at(1, size_t(0)), p.at(2, size_t(0)), p.at(3, size_t(0))});
    const double rest = 1.0 - (p.at(0, size_t(0)) + p.at(1, size_t(0)) + p.at(2, size_t(0)) + p.at(3, size_t(0)));
    CHECK(rest == Approx(0.15).margin(1e-3));
    CHECK(maps.entropy.voxels[0] == Approx(kept + h({rest})).margin(1e-5));
    CHECK(maps.entropy.voxels[0] < h({0.4, 0.2, 0.15, 0.1, 0.08, 0.07})); // a lower bound
}

TEST_CASE("the ensemble's sums refuse, with both figures, when they would not fit", "[uncertainty]") {
    const Geometry huge = grid(4096, 4096, 4096);
    try {
        UncertaintyAccumulator sums(huge, {"background", "lesion"}, {1});
        FAIL("no error");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_THAT(message, Catch::Contains("need") && Catch::Contains("GB are available"));
    }
    CHECK_THROWS_WITH(UncertaintyAccumulator(grid(2, 1, 1), {"a", "b"}, {2}),
                      Catch::Contains("class index 2") && Catch::Contains("2 classes"));
}

TEST_CASE("per-structure uncertainty on hand-built masks", "[uncertainty]") {
    // A 10 x 1 x 1 row, 2 mm voxels (2 mm^3 each). Ensemble structures: voxels 1-3 and 6-7.
    const Geometry g = grid(10, 1, 1, 1.0);
    Geometry spaced = g;
    spaced.spacing = {2.0, 1.0, 1.0};
    const std::vector<uint16_t> m1{0, 1, 1, 1, 0, 0, 1, 1, 0, 0}; // finds both as they are
    const std::vector<uint16_t> m2{0, 0, 1, 1, 1, 0, 0, 0, 0, 0}; // the first, shifted; not the second
    const std::vector<uint16_t> m3{0, 1, 1, 1, 0, 0, 0, 1, 1, 1}; // both; the second larger
    UncertaintyAccumulator sums(spaced, {"background", "lesion"}, {1});
    for (const auto* labels : {&m1, &m2, &m3}) {
        std::vector<float> fg(labels->size());
        for (size_t v = 0; v < fg.size(); ++v)
            fg[v] = (*labels)[v] ? 0.9f : 0.1f;
        const Member m = twoClasses(spaced, fg, *labels);
        sums.add(m.probabilities, m.labels, "m");
    }
    const UncertaintyMaps maps = sums.finish();
    // Ensemble: voxels where at least 2 of 3 say lesion -> 1, 2, 3 and 7.
    CHECK(maps.labels.labels == std::vector<uint16_t>{0, 1, 1, 1, 0, 0, 0, 1, 0, 0});
    InstanceSet instances;
    instances.components = {0, 1, 1, 1, 0, 0, 0, 2, 0, 0};
    Instance first, second;
    first.id = 1, first.classIndex = 1, first.voxels = 3;
    second.id = 2, second.classIndex = 1, second.voxels = 1;
    instances.instances = {first, second};
    const auto u = instanceUncertainty(instances, maps);
    REQUIRE(u.size() == 2);
    // The first: every member finds it, volumes 3, 3, 3 voxels -> 6 mm^3 each, CV 0.
    CHECK(u[0].memberShare == Approx(1.0));
    CHECK(u[0].memberVolumesMm3 == std::vector<double>{6.0, 6.0, 6.0});
    CHECK(u[0].volumeCv == Approx(0.0));
    // The second: m1 (2 voxels: 6-7) and m3 (3 voxels: 7-9) find it, m2 does not (0).
    CHECK(u[1].memberShare == Approx(2.0 / 3.0));
    CHECK(u[1].memberVolumesMm3 == std::vector<double>{4.0, 0.0, 6.0});
    const double mean = 10.0 / 3.0;
    const double sd = std::sqrt(((4 - mean) * (4 - mean) + mean * mean + (6 - mean) * (6 - mean)) / 3.0);
    CHECK(u[1].volumeCv == Approx(sd / mean));
    // Entropy inside: voxel 7 has p = (0.9 + 0.1 + 0.9) / 3 for the lesion.
    CHECK(u[1].meanEntropy == Approx(h({1.9 / 3, 1.1 / 3})).margin(1e-5));
    const double expected = h({0.9, 0.1}); // every member is 0.9 / 0.1 somewhere
    CHECK(u[1].meanMutualInformation == Approx(h({1.9 / 3, 1.1 / 3}) - expected).margin(1e-5));
    // The first structure's voxels 1 and 3: (0.9, 0.1, 0.9) and (0.9, 0.9, 0.9).
    const double first1 = h({1.9 / 3, 1.1 / 3}), first2 = h({2.7 / 3, 0.3 / 3});
    CHECK(u[0].meanEntropy == Approx((first1 + first2 + first2) / 3).margin(1e-5));
}

TEST_CASE("each lesion's uncertainty, a missed one's on its ground truth, and the groups compared",
          "[uncertainty][lesions]") {
    // The members of the test above; the ensemble's labels (voxels 1-3 and 7) are the segmentation,
    // the truth has voxels 1-3 (matched) and 9 (missed): lesion 1 TP, 2 FP (voxel 7), 3 FN (voxel 9).
    Geometry g = grid(10, 1, 1, 1.0);
    g.spacing = {2.0, 1.0, 1.0};
    const std::vector<std::vector<uint16_t>> members{
        {0, 1, 1, 1, 0, 0, 1, 1, 0, 0}, {0, 0, 1, 1, 1, 0, 0, 0, 0, 0}, {0, 1, 1, 1, 0, 0, 0, 1, 1, 1}};
    UncertaintyAccumulator sums(g, {"background", "lesion"}, {});
    for (const auto& labels : members) {
        std::vector<float> fg(labels.size());
        for (size_t v = 0; v < fg.size(); ++v)
            fg[v] = labels[v] ? 0.9f : 0.1f;
        const Member m = twoClasses(g, fg, labels);
        sums.add(m.probabilities, m.labels, "m");
    }
    const UncertaintyMaps maps = sums.finish();
    Segmentation segmentation;
    segmentation.classNames = maps.classNames;
    segmentation.labels = maps.labels;
    segmentation.probabilities = maps.probabilities;
    LabelVolume truth(g, "truth");
    truth.labels = {0, 1, 1, 1, 0, 0, 0, 0, 0, 1};
    LesionOptions options;
    options.minimumSize = 1;
    options.connectivity = 6;
    const LesionSet lesions = findLesions(segmentation, &truth, options);
    REQUIRE(lesions.lesions.size() == 3);
    CHECK(lesions.lesion(2).group == LesionGroup::FalsePositive);
    CHECK(lesions.lesion(3).group == LesionGroup::FalseNegative);

    const LesionUncertainty u = lesionUncertainty(lesions, maps);
    REQUIRE(u.perLesion.size() == 3);
    CHECK(u.members.size() == 3);
    CHECK(u.perLesion[0].memberShare == Approx(1.0));
    CHECK(u.perLesion[0].volumeCv == Approx(0.0));
    CHECK(u.perLesion[1].memberShare == Approx(2.0 / 3.0)); // voxel 7: m1 and m3
    CHECK(u.perLesion[1].memberVolumesMm3 == std::vector<double>{4.0, 0.0, 6.0});
    // The missed lesion (voxel 9): only m3's component 7-9 reaches it.
    CHECK(u.perLesion[2].memberShare == Approx(1.0 / 3.0));
    CHECK(u.perLesion[2].memberVolumesMm3 == std::vector<double>{0.0, 0.0, 6.0});
    CHECK(u.perLesion[2].meanEntropy == Approx(h({1.9 / 3, 1.1 / 3})).margin(1e-5)); // p = 0.1, 0.1, 0.9
    // The groups, one value each, compared as the peaks are.
    const auto share = std::find_if(u.comparisons.begin(), u.comparisons.end(),
                                    [](const GroupComparison& c) { return c.statistic == "member share"; });
    REQUIRE(share != u.comparisons.end());
    CHECK(share->method == "ensemble");
    CHECK(share->values.at("TP") == std::vector<double>{1.0});
    CHECK(share->values.at("FP")[0] == Approx(2.0 / 3.0));
    CHECK(share->values.at("FN")[0] == Approx(1.0 / 3.0));
    const auto test = mannWhitneyU({1.0}, {2.0 / 3.0});
    REQUIRE(share->tpVersusFp.has_value() == test.has_value());
    if (test) CHECK(share->tpVersusFp->statistic == test->statistic);
    CHECK(u.comparisons.size() == 4);
    // Maps on another grid are refused.
    UncertaintyMaps other = maps;
    other.labels.geometry.dims = {5, 2, 1};
    CHECK_THROWS_WITH(lesionUncertainty(lesions, other), Catch::Contains("grid"));
}

TEST_CASE("intensity jitter: gain and gamma on each channel's range, seeded draws within bounds", "[uncertainty]") {
    Study study;
    study.geometry = grid(3, 1, 1);
    Volume channel(study.geometry, "t1");
    channel.voxels = {2.0f, 7.0f, 12.0f}; // range [2, 12]: u = 0, 0.5, 1
    study.channels = {channel};
    IntensityJitter j;
    j.gamma = 2.0;
    j.gain = 1.1;
    const Study out = jitteredStudy(study, j);
    // v' = lo + gain (hi - lo) u^gamma: 2, 2 + 1.1 x 10 x 0.25, 2 + 1.1 x 10.
    CHECK(out.channels[0].voxels == std::vector<float>{2.0f, 4.75f, 13.0f});
    CHECK(jitteredStudy(study, IntensityJitter{}).channels[0].voxels == channel.voxels); // identity
    const auto draws = intensityJitters(50, 0.1, 3);
    REQUIRE(draws.size() == 50);
    for (const IntensityJitter& d : draws) {
        CHECK((d.gain >= 0.9 && d.gain <= 1.1));
        CHECK((d.gamma >= 0.9 && d.gamma <= 1.1));
        CHECK(d.noise == Approx(0.02));
    }
    CHECK(draws[0].gain != draws[1].gain);
    CHECK(intensityJitters(50, 0.1, 3)[7].gamma == draws[7].gamma); // seeded
    CHECK(intensityJitters(50, 0.1, 4)[7].gamma != draws[7].gamma);
    // Noise: seeded, of standard deviation noise x range.
    j = IntensityJitter{};
    j.noise = 0.1;
    j.seed = 9;
    Volume wide(grid(2000, 1, 1), "c");
    for (size_t v = 0; v < wide.voxels.size(); ++v)
        wide.voxels[v] = float(v % 2) * 10.0f; // range 10
    Study noisy;
    noisy.geometry = wide.geometry;
    noisy.channels = {wide};
    const Study a = jitteredStudy(noisy, j), b = jitteredStudy(noisy, j);
    CHECK(a.channels[0].voxels == b.channels[0].voxels);
    double squares = 0.0;
    for (size_t v = 0; v < wide.voxels.size(); ++v)
        squares += std::pow(double(a.channels[0].voxels[v] - wide.voxels[v]), 2.0);
    CHECK(std::sqrt(squares / double(wide.voxels.size())) == Approx(1.0).epsilon(0.08));
    CHECK_THROWS_WITH(intensityJitters(2, 0.7, 0), Catch::Contains("0.7") && Catch::Contains("[0, 0.5]"));
}

TEST_CASE("explanations' agreement: rank correlation, top overlap and mass inside on hand-built maps",
          "[uncertainty]") {
    const Geometry g = grid(4, 1, 1);
    Volume a(g, "a"), b(g, "b"), c(g, "c");
    a.voxels = {1.0f, 2.0f, 3.0f, 4.0f};
    b.voxels = {4.0f, 3.0f, 2.0f, 1.0f};
    c.voxels = {10.0f, 20.0f, 30.0f, 45.0f}; // a's ranks, other values
    CHECK(mapAgreement(a, b, 0.25).rankCorrelation == Approx(-1.0));
    CHECK(mapAgreement(a, b, 0.25).topOverlap == 0.0); // top voxel: 3 against 0
    CHECK(mapAgreement(a, b, 0.5).topOverlap == 0.0);  // {2, 3} against {0, 1}
    CHECK(mapAgreement(a, b, 0.75).topOverlap == Approx(2.0 / 3.0));
    CHECK(mapAgreement(a, c).rankCorrelation == Approx(1.0));
    CHECK(mapAgreement(a, c).topOverlap == 1.0);
    CHECK_THROWS_WITH(mapAgreement(a, b, 0.0), Catch::Contains("(0, 1]"));

    Target t;
    t.mask = {0, 0, 1, 1};
    Volume signedMap(g, "s");
    signedMap.voxels = {1.0f, -5.0f, 2.0f, 1.0f}; // positive mass 4, inside 3
    CHECK(positiveMassInside(signedMap, t) == Approx(0.75));

    const ExplanationSpread spread = explanationSpread({a, b, c}, {"a", "b", "c"}, t, 0.25);
    CHECK(spread.pairs[0][1].rankCorrelation == Approx(-1.0));
    CHECK(spread.pairs[2][0].rankCorrelation == Approx(1.0));
    CHECK(spread.meanRankCorrelation == Approx((-1.0 + 1.0 - 1.0) / 3.0));
    CHECK(spread.meanTopOverlap == Approx((0.0 + 1.0 + 0.0) / 3.0));
    CHECK(spread.mean.voxels[0] == Approx(5.0));                                       // (1 + 4 + 10) / 3
    CHECK(spread.deviation.voxels[0] == Approx(std::sqrt((16.0 + 1.0 + 25.0) / 3.0))); // about 5
    CHECK(spread.massInside[0] == Approx(7.0 / 10.0));
}
