// Lesion explanations and the context experiment on TorchScript models built to know the
// answer (tests/data/models/make_test_models.py): TV7 through the max-magnitude SmoothGrad,
// shared-forward maps equal to explain()'s one by one, a context need fixed by construction.
#include "engine/analysis/lesion_analysis.h"
#include "engine/analysis/lesions.h"
#include "engine/analysis/synthetic_lesion.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Target targetOf(const Geometry& g, int classIndex, const std::vector<uint8_t>& mask) {
    Target t;
    t.classIndex = classIndex;
    t.className = fmt::format("class {}", classIndex);
    t.mask = mask;
    for (uint8_t m : mask)
        t.voxelCount += m;
    (void)g;
    return t;
}

Study studyOf(const Geometry& g, const std::vector<std::function<float(int64_t, int64_t, int64_t)>>& channels) {
    Study s;
    s.geometry = g;
    for (size_t c = 0; c < channels.size(); ++c)
        s.channels.push_back(test::makeVolume(g, channels[c], fmt::format("c{}", c)));
    return s;
}

void checkClose(const std::vector<float>& got, const std::vector<float>& want, double margin) {
    REQUIRE(got.size() == want.size());
    double worst = 0.0;
    for (size_t n = 0; n < got.size(); ++n)
        worst = std::max(worst, double(std::abs(got[n] - want[n])));
    CHECK(worst <= margin);
}

} // namespace

TEST_CASE("TV7 through the max-magnitude SmoothGrad of a lesion - and the mean variant", "[lesions][tv]") {
    // Class 1 at voxels 0 and 1 has input gradients g1 = [0.5, -2, 0] and g2 = [1, 1, -0.1]
    // whatever the input (a linear model), so noise changes nothing.
    const auto model = Model::load(kModels + "tv7.pt");
    Geometry g;
    g.dims = {3, 1, 1};
    const Study study = studyOf(g, {[](auto i, auto, auto) { return float(i); }});
    LesionExplainOptions options;
    options.smoothGradMean = options.smoothGradMax = true;
    options.samples = 3;
    options.maxChunks = 8; // as many chunks as voxels: the exact per-voxel definition
    const auto maps = explainLesions(*model, study, {targetOf(g, 1, {1, 1, 0})}, options);
    REQUIRE(maps.size() == 1);
    checkClose(maps[0].smoothGradMax.at(0).values.voxels, {1.0f, -2.0f, -0.1f}, 1e-5);
    checkClose(maps[0].smoothGradMean.at(0).values.voxels, {1.5f, -1.0f, -0.1f}, 1e-5);
    CHECK(maps[0].smoothGradMax[0].signedValues);
    // One chunk is the whole lesion: max-magnitude of one gradient is the mean variant.
    options.maxChunks = 1;
    checkClose(explainLesions(*model, study, {targetOf(g, 1, {1, 1, 0})}, options)[0].smoothGradMax.at(0).values.voxels,
               {1.5f, -1.0f, -0.1f}, 1e-5);
    // S of the input [0, 1, 2]: z(0) + z(1) = -2 + 0.8.
    CHECK(maps[0].score == Approx(-1.2).margin(1e-5));
}

TEST_CASE("lesions explained together give the maps explain() gives one by one", "[lesions]") {
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    Geometry g;
    g.dims = {16, 20, 12};
    const Study study =
        studyOf(g, {[](auto i, auto j, auto k) { return float(std::sin(0.3 * i + 0.2 * j + 0.1 * k)); },
                    [](auto i, auto j, auto k) { return float(std::sin(0.3 * i + 0.4 * j + 0.1 * k)); }});
    std::vector<uint8_t> first(g.voxelCount(), 0), second(g.voxelCount(), 0);
    for (int64_t k = 3; k < 6; ++k)
        for (int64_t j = 4; j < 8; ++j)
            for (int64_t i = 2; i < 5; ++i)
                first[g.linearIndex(i, j, k)] = 1;
    for (int64_t k = 6; k < 9; ++k)
        for (int64_t j = 12; j < 15; ++j)
            for (int64_t i = 9; i < 13; ++i)
                second[g.linearIndex(i, j, k)] = 1;
    const std::vector<Target> targets{targetOf(g, 1, first), targetOf(g, 2, second)};
    LesionExplainOptions options;
    options.samples = 4;
    options.noiseFraction = 0.05;
    options.seed = 11;
    options.camPlusPlus = true;
    options.layer = "model.1";
    const auto together = explainLesions(*model, study, targets, options);
    REQUIRE(together.size() == 2);
    ExplainParameters p;
    p.samples = 4;
    p.noiseFraction = 0.05;
    p.seed = 11;
    p.layer = "model.1";
    for (size_t t = 0; t < targets.size(); ++t) {
        INFO("lesion " << t);
        const auto alone = explain(*model, study, targets[t], {Method::SmoothGrad, Method::SegGradCamPlusPlus}, p);
        for (size_t c = 0; c < 2; ++c) {
            checkClose(together[t].smoothGradMean.at(c).values.voxels, alone[0].maps.at(c).values.voxels, 1e-5);
        }
        REQUIRE(together[t].camPlusPlus);
        checkClose(together[t].camPlusPlus->values.voxels, alone[1].maps.at(0).values.voxels, 1e-5);
        CHECK(together[t].score == Approx(alone[0].score).epsilon(1e-5));
    }
}

TEST_CASE("the context experiment finds the context a model needs by construction", "[lesions][context]") {
    // context_box.pt detects a voxel above 1.5 only when no voxel of the 7 x 7 x 7 cube around
    // it is masked away. A lesion of radius 2 voxels (value 2) on tissue (value 1): it is
    // detected once the lesion dilated by d covers a cube around one of its voxels.
    const auto model = Model::load(kModels + "context_box.pt");
    Geometry g;
    g.dims = {24, 24, 24};
    const Index3 c{12, 11, 12};
    auto inLesion = [&](int64_t i, int64_t j, int64_t k) {
        const int64_t di = i - c[0], dj = j - c[1], dk = k - c[2];
        return di * di + dj * dj + dk * dk <= 4;
    };
    const Study study = studyOf(g, {[&](auto i, auto j, auto k) { return inLesion(i, j, k) ? 2.0f : 1.0f; }});
    const Segmentation segmentation = segmentStudy(*model, study);
    const LesionSet lesions = findLesions(segmentation, nullptr, {});
    REQUIRE(lesions.lesions.size() == 1);
    CHECK(lesions.lesions[0].voxels == 33);
    // Expected by brute force: the smallest whole d for which some lesion voxel's cube lies
    // within d mm of the lesion.
    std::vector<Index3> lesionVoxels;
    for (int64_t k = 0; k < 24; ++k)
        for (int64_t j = 0; j < 24; ++j)
            for (int64_t i = 0; i < 24; ++i)
                if (inLesion(i, j, k)) lesionVoxels.push_back({i, j, k});
    auto toLesion = [&](int64_t i, int64_t j, int64_t k) {
        double best = 1e9;
        for (const auto& v : lesionVoxels) {
            best = std::min(
                best, std::sqrt(double((i - v[0]) * (i - v[0]) + (j - v[1]) * (j - v[1]) + (k - v[2]) * (k - v[2]))));
        }
        return best;
    };
    double need = 1e9;
    for (const auto& v : lesionVoxels) {
        double cube = 0.0;
        for (int64_t dk = -3; dk <= 3; ++dk)
            for (int64_t dj = -3; dj <= 3; ++dj)
                for (int64_t di = -3; di <= 3; ++di)
                    cube = std::max(cube, toLesion(v[0] + di, v[1] + dj, v[2] + dk));
        need = std::min(need, cube);
    }
    const double expected = std::ceil(need - 1e-9);
    REQUIRE(expected > 1.0);
    const auto curves = contextExperiment(*model, study, {targetOf(g, 1, lesions.mask(1))}, 0.5, 8.0, 1.0);
    REQUIRE(curves.size() == 1);
    REQUIRE(curves[0].points.size() == 9); // 0, 1, ... 8 mm
    REQUIRE(curves[0].sufficientMm);
    CHECK(*curves[0].sufficientMm == expected);
    for (const ContextPoint& p : curves[0].points) {
        INFO(p.mm << " mm");
        CHECK(p.detected == (p.mm >= expected));
        CHECK((p.meanProbability > 1e-6) == p.detected); // undetected voxels have p = sigmoid(-232)
    }
    // A lesion that needs more context than offered has none.
    CHECK(
        !contextExperiment(*model, study, {targetOf(g, 1, lesions.mask(1))}, 0.5, expected - 1.0, 1.0)[0].sufficientMm);
}

TEST_CASE("a synthetic lesion is painted with its contrast and soft edge - and a sweep finds what the model detects",
          "[lesions][synthetic]") {
    Geometry g;
    g.dims = {24, 24, 24};
    const Study study = studyOf(g, {[](auto, auto, auto) { return 1.0f; }});
    SyntheticLesion lesion;
    lesion.centre = g.voxelToWorld(glm::dvec3(12.0, 12.0, 12.0));
    lesion.radiiMm = glm::dvec3(3.0);
    lesion.contrast = {1.0};
    lesion.edgeMm = 2.0;
    const Study painted = withSyntheticLesion(study, lesion);
    CHECK(painted.channels[0].at(12, 12, 12) == Approx(2.0f)); // the core: doubled
    CHECK(painted.channels[0].at(12, 12, 15) == Approx(1.5f)); // on the surface: half the change
    CHECK(painted.channels[0].at(12, 12, 17) == Approx(1.0f)); // past the edge: untouched
    CHECK(painted.channels[0].at(12, 12, 14) > painted.channels[0].at(12, 12, 15));
    CHECK_THROWS_WITH(withSyntheticLesion(study, SyntheticLesion{lesion.centre, lesion.radiiMm, {1.0, 2.0}, 1.0}),
                      Catch::Contains("one contrast per channel"));

    // context_box.pt finds voxels above 1.5 (with all their context kept): contrast x 0.25
    // (1.25) is missed at every size, x 1 (2.0) found.
    const auto model = Model::load(kModels + "context_box.pt");
    const auto cells = syntheticSweep(*model, study, lesion, {2.0, 4.0}, {0.25, 1.0}, 1, 0.5);
    REQUIRE(cells.size() == 4);
    for (const auto& c : cells) {
        INFO("radius " << c.radiusMm << " mm, contrast x" << c.contrastScale);
        CHECK(c.detected == (c.contrastScale == 1.0));
        CHECK(c.coreVoxels > 0);
    }
    CHECK(cells[3].coreVoxels > cells[1].coreVoxels);
}
