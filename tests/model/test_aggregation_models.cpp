// Many targets explained together equal explain() target by target; segment ablation and
// KernelSHAP recover an additive model's contributions; the class x segment matrix.
#include "engine/analysis/aggregation.h"
#include "engine/explain/explanation.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Target maskTarget(const Geometry& g, int classIndex, const std::function<bool(int64_t, int64_t, int64_t)>& inside) {
    Target t;
    t.classIndex = classIndex;
    t.className = fmt::format("class {}", classIndex);
    t.mask.assign(g.voxelCount(), 0);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i)
                if (inside(i, j, k)) {
                    t.mask[g.linearIndex(i, j, k)] = 1;
                    ++t.voxelCount;
                }
    return t;
}

double worstDifference(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0.0;
    for (size_t n = 0; n < a.size(); ++n)
        worst = std::max(worst, double(std::abs(a[n] - b[n])));
    return worst;
}

} // namespace

TEST_CASE("targets explained together give explain()'s maps one by one", "[aggregation][explain]") {
    // The whole-volume model shares one forward between the targets; the same network through
    // 8^3 windows shares each window's forward between the targets it touches.
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "windowed");
    std::filesystem::copy_file(kModels + "tiny_unet_traced.pt", dir.path() / "windowed" / "model.pt");
    std::ofstream(dir.path() / "windowed" / "model.json") << R"({"sliding_window": {"patch": 8, "overlap": 0.5}})";
    const bool windowed = GENERATE(false, true);
    INFO((windowed ? "sliding windows" : "whole volume"));
    const auto model = Model::load(windowed ? (dir.path() / "windowed").string() : kModels + "tiny_unet_traced.pt");
    Study study = test::twoChannelStudy({16, 20, 12});
    const Geometry& g = study.geometry;
    const std::vector<Target> targets{maskTarget(g, 0, [](auto i, auto, auto) { return i < 6; }),
                                      maskTarget(g, 1, [](auto i, auto j, auto) { return i >= 6 && j < 10; }),
                                      maskTarget(g, 2, [](auto, auto j, auto k) { return j >= 10 && k > 3; })};
    ExplainParameters p;
    p.samples = 3;
    p.steps = 4;
    p.window = 6;
    p.stride = 6;
    p.layer = "model.1";
    for (Method m : {Method::Saliency, Method::InputXGradient, Method::SegGradCam, Method::SegHiResGradCam,
                     Method::SegGradCamPlusPlus, Method::SmoothGrad, Method::IntegratedGradients, Method::Occlusion}) {
        INFO(methodId(m));
        const auto together = explainTargets(*model, study, targets, m, p);
        REQUIRE(together.size() == targets.size());
        for (size_t t = 0; t < targets.size(); ++t) {
            INFO("target " << t);
            const auto alone = explain(*model, study, targets[t], {m}, p);
            REQUIRE(together[t].maps.size() == alone[0].maps.size());
            for (size_t c = 0; c < alone[0].maps.size(); ++c) {
                CHECK(worstDifference(together[t].maps[c].values.voxels, alone[0].maps[c].values.voxels) < 1e-4);
            }
            CHECK(together[t].score == Approx(alone[0].score).epsilon(1e-4).margin(1e-4));
        }
    }
}

TEST_CASE("targets explained a chunk at a time give the maps of all at once, each made when its chunk comes",
          "[aggregation][explain]") {
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    Study study = test::twoChannelStudy({16, 20, 12});
    const Geometry& g = study.geometry;
    std::vector<Target> targets;
    for (int t = 0; t < 5; ++t)
        targets.push_back(maskTarget(g, t % 3, [t](auto i, auto j, auto) { return (i + j) % 5 == t; }));
    ExplainParameters p;
    p.samples = 2;
    const Method method = GENERATE(Method::Saliency, Method::SmoothGrad);
    INFO(methodId(method));
    const auto together = explainTargets(*model, study, targets, method, p);
    const ExplanationInput input(*model, study);
    for (size_t chunk : {size_t(1), size_t(2), size_t(5)}) {
        INFO("chunks of " << chunk);
        std::vector<std::string> calls; // the order targets are made and explanations handed over
        std::vector<Explanation> chunked(targets.size());
        explainInChunks(
            input, targets.size(), chunk,
            [&](size_t t) {
                calls.push_back(fmt::format("make {}", t));
                return targets[t];
            },
            method, p, nullptr, nullptr,
            [&](size_t t, Explanation&& x) {
                calls.push_back(fmt::format("take {}", t));
                chunked[t] = std::move(x);
            });
        std::vector<std::string> expected;
        for (size_t first = 0; first < targets.size(); first += chunk) {
            const size_t last = std::min(targets.size(), first + chunk);
            for (size_t t = first; t < last; ++t)
                expected.push_back(fmt::format("make {}", t));
            for (size_t t = first; t < last; ++t)
                expected.push_back(fmt::format("take {}", t));
        }
        CHECK(calls == expected);
        for (size_t t = 0; t < targets.size(); ++t) {
            INFO("target " << t);
            CHECK(chunked[t].targetVoxels == targets[t].voxelCount);
            REQUIRE(chunked[t].maps.size() == together[t].maps.size());
            for (size_t c = 0; c < together[t].maps.size(); ++c)
                CHECK(worstDifference(chunked[t].maps[c].values.voxels, together[t].maps[c].values.voxels) < 1e-5);
        }
    }
}

TEST_CASE("segment ablation and KernelSHAP recover an additive model's contributions", "[aggregation][shap]") {
    // linear.pt: class 0 = 0.5 x0 - 2 x1 per voxel; its whole-volume score is the sum of each
    // segment's own part, so with a zero baseline every segment contributes exactly its part.
    const auto model = Model::load(kModels + "linear.pt");
    Geometry g;
    g.dims = {6, 4, 3};
    Study study;
    study.geometry = g;
    study.channels = {test::makeVolume(
                          g, [](auto i, auto j, auto k) { return float(1 + i + 2 * j - k); }, "x0"),
                      test::makeVolume(
                          g, [](auto i, auto j, auto k) { return float(0.5 * i - j + 0.25 * k); }, "x1")};
    LabelVolume segments(g, "segments");
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i)
                segments.at(i, j, k) = uint16_t(i < 2 ? 0 : i < 5 ? 1 : 3);
    const Target all = maskTarget(g, 0, [](auto, auto, auto) { return true; });
    std::vector<double> contribution(4, 0.0);
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                contribution[segments.at(i, j, k)] +=
                    0.5 * study.channels[0].at(i, j, k) - 2.0 * study.channels[1].at(i, j, k);
            }
    ExplainParameters p;
    p.coalitions = 20;
    for (Method m : {Method::SegmentAblation, Method::KernelShap}) {
        INFO(methodId(m));
        const auto e = explain(*model, study, all, {m}, p, nullptr, &segments);
        REQUIRE(e.size() == 1);
        const std::vector<float>& map = e[0].maps.at(0).values.voxels;
        // Each segment's values sum to its contribution, spread evenly over its voxels.
        std::vector<double> sums(4, 0.0);
        for (size_t n = 0; n < map.size(); ++n)
            sums[segments.labels[n]] += map[n];
        for (int s : {0, 1, 3})
            CHECK(sums[size_t(s)] == Approx(contribution[size_t(s)]).epsilon(1e-4));
        CHECK(map[g.linearIndex(0, 0, 0)] == Approx(map[g.linearIndex(1, 3, 2)]).epsilon(1e-5));
    }
    CHECK_THROWS_WITH(explain(*model, study, all, {Method::KernelShap}, p),
                      Catch::Contains("need the predicted segments"));
    // Cubes instead of segments: 8 cubes of 3 voxels, the contributions still add up to S.
    p.featureCube = 3;
    const auto cubes = explain(*model, study, all, {Method::KernelShap}, p);
    double sum = 0.0;
    for (float v : cubes[0].maps[0].values.voxels)
        sum += v;
    CHECK(sum == Approx(contribution[0] + contribution[1] + contribution[3]).epsilon(1e-4));
}

TEST_CASE("the class x segment matrix of a study", "[aggregation]") {
    // probabilities.pt: class 1 where the input is positive; saliency of each class lies on
    // its own segment (the model is voxel-wise), so the matrix is diagonal.
    const auto model = Model::load(kModels + "probabilities.pt");
    Geometry g;
    g.dims = {8, 4, 4};
    Study study;
    study.geometry = g;
    study.channels = {test::makeVolume(
        g, [](auto i, auto, auto) { return float(i) - 3.5f; }, "x")};
    const Segmentation s = segmentStudy(*model, study);
    const AggregationMatrix m = aggregateStudy(*model, study, s, Method::Saliency, {}, {0, 1});
    REQUIRE(m.rows.size() == 2);
    CHECK(m.segmentVoxels == std::vector<int64_t>{64, 64});
    CHECK(m.mass(AttributionPart::Absolute, 0, 0) == Approx(1.0));
    CHECK(m.mass(AttributionPart::Absolute, 1, 1) == Approx(1.0));
    CHECK(m.mass(AttributionPart::Absolute, 1, 0) == Approx(0.0).margin(1e-9));
}

TEST_CASE("the class x segment matrix is the same explained a class at a time", "[aggregation]") {
    // With 1 MB of memory allowed every class is its own chunk, all on one prepared input; with
    // the maps kept, all are explained together. The matrices agree cell by cell, also for the
    // first class, which is not predicted anywhere (chunks take the predicted classes first;
    // rows keep their order).
    const auto model = Model::load(kModels + "tiny_unet_traced.pt");
    Study study = test::twoChannelStudy({32, 32, 24});
    Segmentation s = segmentStudy(*model, study);
    for (uint16_t& label : s.labels.labels)
        if (label == 0) label = 2;
    std::vector<Explanation> maps;
    const AggregationMatrix together =
        aggregateStudy(*model, study, s, Method::Saliency, {}, {0, 1, 2}, nullptr, &maps);
    REQUIRE(maps.size() == 3);
    setenv("SEGXAI_MEMORY_LIMIT_MB", "1", 1);
    CHECK(targetsPerChunk(*model, study, 3, Method::Saliency) == 1);
    // The chunks share one input made from the study, whose voxels then go (`segxai aggregate`).
    Study released = study;
    const AggregationMatrix chunked = aggregateStudy(*model, std::move(released), s, Method::Saliency, {}, {0, 1, 2});
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
    REQUIRE(released.channels.size() == 2);
    CHECK(released.channels[0].voxels.empty());
    CHECK(released.channels[1].name == "b");
    CHECK(targetsPerChunk(*model, study, 3, Method::Saliency) == 3);
    REQUIRE(chunked.rows.size() == 3);
    for (size_t r = 0; r < 3; ++r)
        for (int part = 0; part < kAttributionParts; ++part)
            for (size_t k = 0; k < 3; ++k) {
                CHECK(chunked.rows[r].mass[size_t(part)][k] ==
                      Approx(together.rows[r].mass[size_t(part)][k]).margin(1e-6));
                CHECK(chunked.rows[r].mean[size_t(part)][k] ==
                      Approx(together.rows[r].mean[size_t(part)][k]).margin(1e-9));
            }
    // Not a degenerate matrix: each class's attribution spreads over more than one segment.
    CHECK(together.mass(AttributionPart::Absolute, 1, 1) < 0.999);
}
