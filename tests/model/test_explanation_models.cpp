// Explanations on real models: CAM maps against Python's hooks, sliding windows against
// whole volumes, and the demo lesion model.
#include "engine/demo/demo_data.h"
#include "engine/explain/explanation.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "engine/torch/tensors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/volumes.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <torch/script.h>

using namespace segxai;

namespace {

const std::string kModels = SEGXAI_TEST_DATA "/models/";

Study studyFromTensor(const torch::Tensor& input) {
    Study s;
    s.geometry.dims = {input.size(2), input.size(3), input.size(4)};
    for (int64_t c = 0; c < input.size(1); ++c) {
        s.channels.push_back(tensorToVolume(input[0][c], s.geometry, false, c == 0 ? "t1" : "flair"));
    }
    return s;
}

Target boxTarget(const Study& s, int classIndex, Index3 lo, Index3 hi) {
    Target t;
    t.classIndex = classIndex;
    t.mask.assign(s.geometry.voxelCount(), 0);
    for (int64_t k = lo[2]; k <= hi[2]; ++k)
        for (int64_t j = lo[1]; j <= hi[1]; ++j)
            for (int64_t i = lo[0]; i <= hi[0]; ++i)
                t.mask[s.geometry.linearIndex(i, j, k)] = 1;
    t.voxelCount = size_t(std::count(t.mask.begin(), t.mask.end(), 1));
    return t;
}

double maxDifference(const Volume& a, const torch::Tensor& b) {
    const Volume v = tensorToVolume(b, a.geometry, false, "expected");
    double worst = 0.0, scale = 0.0;
    for (size_t n = 0; n < a.voxels.size(); ++n) {
        worst = std::max(worst, double(std::abs(a.voxels[n] - v.voxels[n])));
        scale = std::max(scale, double(std::abs(v.voxels[n])));
    }
    return worst / std::max(scale, 1e-12);
}

} // namespace

TEST_CASE("CAM and input-space maps equal a direct computation from Python's hooks", "[explain][models]") {
    // tiny_unet_expected.pt holds A, dS/dA and dS/dx for S = sum of class-1 logits over the
    // box [2:6, 3:9, 1:5], from Python forward hooks.
    torch::jit::Module expected = torch::jit::load(kModels + "tiny_unet_expected.pt");
    const torch::Tensor input = expected.attr("input").toTensor();
    const Study study = studyFromTensor(input);
    const Target target = boxTarget(study, 1, {2, 3, 1}, {5, 8, 4});
    namespace F = torch::nn::functional;
    for (const std::string file : {"tiny_unet_traced.pt", "tiny_unet_scripted.pt"}) {
        const auto model = Model::load(kModels + file);
        for (const std::string layer : {"model.1.submodule.1", "model.0", "model.1.submodule.2.adn.A"}) {
            INFO(file << " " << layer);
            std::string key = layer;
            std::replace(key.begin(), key.end(), '.', '_');
            const torch::Tensor A = expected.attr("act_" + key).toTensor()[0];
            const torch::Tensor G = expected.attr("gact_" + key).toTensor()[0];
            // The definitions of docs/methods.md, written out independently.
            const torch::Tensor gradCam = torch::relu((G.mean({1, 2, 3}, true) * A).sum(0));
            const torch::Tensor hiRes = torch::relu((G * A).sum(0));
            const torch::Tensor sumA = A.sum({1, 2, 3}, true);
            const torch::Tensor alpha =
                torch::where(G != 0, G.pow(2) / (2 * G.pow(2) + sumA * G.pow(3) + 1e-7), torch::zeros_like(G));
            const torch::Tensor plusPlus = torch::relu(((alpha * torch::relu(G)).sum({1, 2, 3}, true) * A).sum(0));
            auto up = [&](const torch::Tensor& m) {
                return F::interpolate(m.unsqueeze(0).unsqueeze(0), F::InterpolateFuncOptions()
                                                                       .size(std::vector<int64_t>{16, 20, 12})
                                                                       .mode(torch::kTrilinear)
                                                                       .align_corners(false))[0][0];
            };
            ExplainParameters p;
            p.layer = layer;
            const auto e = explain(*model, study, target,
                                   {Method::SegGradCam, Method::SegHiResGradCam, Method::SegGradCamPlusPlus,
                                    Method::Saliency, Method::InputXGradient},
                                   p);
            CHECK(e[0].score == Approx(expected.attr("output")
                                           .toTensor()[0][1]
                                           .slice(0, 2, 6)
                                           .slice(1, 3, 9)
                                           .slice(2, 1, 5)
                                           .sum()
                                           .item<double>()));
            CHECK(maxDifference(e[0].maps[0].values, up(gradCam)) < 1e-5);
            CHECK(maxDifference(e[1].maps[0].values, up(hiRes)) < 1e-5);
            // Seg-Grad-CAM++'s weights divide by 2 G^2 + sum(A) G^3, which magnifies float
            // rounding: SegXAI's oneDNN convolutions (engine/torch/frozen_convolution.h) round
            // otherwise than the im2col ones Python's hooks ran at a batch of one, and at model.0
            // the map differs by 3e-4 of its peak where the others stay within 1e-5.
            CHECK(maxDifference(e[2].maps[0].values, up(plusPlus)) < 1e-3);
            const torch::Tensor gin = expected.attr("gin_" + key).toTensor()[0];
            CHECK(maxDifference(e[3].maps[0].values, gin[0]) < 1e-5);
            CHECK(maxDifference(e[3].maps[1].values, gin[1]) < 1e-5);
            CHECK(maxDifference(e[4].maps[1].values, gin[1] * input[0][1]) < 1e-5);
            CHECK(e[3].maps[1].channel == "flair");
        }
    }
}

TEST_CASE("explanations through sliding windows match whole-volume ones", "[explain][models]") {
    const Volume input = test::makeVolume(
        [] {
            Geometry g;
            g.dims = {40, 36, 30};
            return g;
        }(),
        [](auto i, auto j, auto k) {
            return float(std::sin(0.31 * i) + std::cos(0.23 * j) * std::sin(0.17 * k + 0.4));
        });
    Study study;
    study.geometry = input.geometry;
    study.channels = {input};
    const auto folder = std::filesystem::temp_directory_path() / "segxai-window-test";
    std::filesystem::create_directories(folder / "a");
    std::filesystem::create_directories(folder / "b");
    std::filesystem::copy_file(kModels + "local_fcn.pt", folder / "a" / "model.pt",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(kModels + "local_fcn.pt", folder / "b" / "model.pt",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(folder / "a" / "model.json") << "{}";
    std::ofstream(folder / "b" / "model.json") << R"({"sliding_window": {"patch": 16, "overlap": 0.5}})";
    const auto whole = Model::load((folder / "a").string());
    const auto windowed = Model::load((folder / "b").string());
    const Target target = boxTarget(study, 1, {10, 10, 10}, {25, 20, 18});
    ExplainParameters p;
    p.layer = "2"; // the second convolution
    const std::vector<Method> methods = {Method::Saliency, Method::SegHiResGradCam, Method::SegGradCam,
                                         Method::SegGradCamPlusPlus};
    const auto a = explain(*whole, study, target, methods, p);
    const auto b = explain(*windowed, study, target, methods, p);
    CHECK(b[0].score == Approx(a[0].score).epsilon(0.01));
    for (size_t m = 0; m < methods.size(); ++m) {
        INFO(methodId(methods[m]));
        double worst = 0.0, scale = 0.0;
        const auto& va = a[m].maps[0].values.voxels;
        const auto& vb = b[m].maps[0].values.voxels;
        for (size_t n = 0; n < va.size(); ++n) {
            worst = std::max(worst, double(std::abs(va[n] - vb[n])));
            scale = std::max(scale, double(std::abs(va[n])));
        }
        CHECK(worst / scale < 0.05);
    }
    REQUIRE(b[1].layerMap);
    CHECK(b[1].layerMap->geometry.sameGrid(a[1].layerMap->geometry));
    std::filesystem::remove_all(folder);
}

TEST_CASE("CAM layers of any stride work through sliding windows on any study size, as for the whole volume",
          "[explain][models]") {
    // tiny U-Net: model.1 has stride 2, model.1.submodule.1 stride 4. The windowed card has no
    // divisor: windows start on multiples of the layer's stride and the study is padded to one,
    // so every window's activation falls on one layer grid. On a study the whole-volume model
    // pads as the windows do (multiples of 4) the maps are the same; on sizes that are multiples
    // of nothing the windows still work (before, they threw "does not share one grid").
    test::TempDir dir;
    for (const char* name : {"whole", "windowed"}) {
        std::filesystem::create_directories(dir.path() / name);
        std::filesystem::copy_file(kModels + "tiny_unet_traced.pt", dir.path() / name / "model.pt");
    }
    std::ofstream(dir.path() / "whole" / "model.json") << R"({"divisible_by": 4})";
    std::ofstream(dir.path() / "windowed" / "model.json") << R"({"sliding_window": {"patch": 16, "overlap": 0.5}})";
    const auto whole = Model::load((dir.path() / "whole").string());
    const auto windowed = Model::load((dir.path() / "windowed").string());
    for (const Index3 dims : {Index3{40, 36, 32}, Index3{38, 34, 30}}) {
        Geometry g;
        g.dims = dims;
        auto channel = [&](double phase) {
            return test::makeVolume(g, [phase](auto i, auto j, auto k) {
                return float(std::sin(0.31 * i + phase) + std::cos(0.23 * j) * std::sin(0.17 * k + 0.4));
            });
        };
        Study study;
        study.geometry = g;
        study.channels = {channel(0.0), channel(1.0)};
        const Target target = boxTarget(study, 1, {10, 8, 8}, {27, 25, 21});
        const bool samePadding = dims[0] % 4 == 0 && dims[1] % 4 == 0 && dims[2] % 4 == 0;
        for (const char* layer : {"model.1", "model.1.submodule.1"}) {
            ExplainParameters p;
            p.layer = layer;
            const auto a = explain(*whole, study, target, {Method::SegGradCam}, p);
            const auto b = explain(*windowed, study, target, {Method::SegGradCam}, p);
            const auto& va = a[0].maps[0].values.voxels;
            const auto& vb = b[0].maps[0].values.voxels;
            double ma = 0.0, mb = 0.0;
            for (size_t n = 0; n < va.size(); ++n) {
                ma += va[n] / double(va.size());
                mb += vb[n] / double(vb.size());
            }
            double num = 0.0, da = 0.0, db = 0.0;
            for (size_t n = 0; n < va.size(); ++n) {
                num += (va[n] - ma) * (vb[n] - mb);
                da += (va[n] - ma) * (va[n] - ma);
                db += (vb[n] - mb) * (vb[n] - mb);
            }
            const double r = num / std::sqrt(da * db);
            std::printf("Seg-Grad-CAM at %s, 16^3 windows, study %lld x %lld x %lld: r = %.4f against the whole "
                        "volume\n",
                        layer, (long long)dims[0], (long long)dims[1], (long long)dims[2], r);
            REQUIRE(b[0].layerMap);
            // Alone, Seg-Grad-CAM keeps the windows' gradients per channel; beside
            // Seg-HiRes-Grad-CAM, voxel by voxel: the same map either way.
            const auto both = explain(*windowed, study, target, {Method::SegGradCam, Method::SegHiResGradCam}, p);
            const auto& vc = both[0].maps[0].values.voxels;
            REQUIRE(vc.size() == vb.size());
            float worst = 0.0f, peak = 0.0f;
            for (size_t n = 0; n < vb.size(); ++n) {
                worst = std::max(worst, std::abs(vb[n] - vc[n]));
                peak = std::max(peak, std::abs(vc[n]));
            }
            CHECK(peak > 0.0f);
            CHECK(worst <= 1e-5f * peak);
            // Layer grids offset by half a layer voxel (the whole volume is padded to 4, the windows
            // to the layer's stride) still give nearly the same map.
            CHECK(r > (samePadding ? 0.99 : 0.9));
            if (samePadding) CHECK(b[0].layerMap->geometry.dims == a[0].layerMap->geometry.dims);
        }
    }
}

TEST_CASE("a CAM layer whose stitched volume would not fit is refused before the first window, with both figures",
          "[explain][models][memory]") {
    // model.1 (stride 2, 8 channels) of the tiny U-Net over 80^3 windowed: 64000 layer voxels,
    // its activation plus the overlap counts, 4 x 64000 x (8 + 1) bytes = 2.3 MB for
    // Seg-Grad-CAM (its gradient kept per channel); and one target's gradient voxel by voxel for
    // Seg-HiRes-Grad-CAM, 4 x 64000 x (8 x 2 + 1) bytes = 4.4 MB: both more than the 1 MB the
    // limit leaves.
    test::TempDir dir;
    std::filesystem::copy_file(kModels + "tiny_unet_traced.pt", dir.path() / "model.pt");
    std::ofstream(dir.path() / "model.json") << R"({"sliding_window": {"patch": 16, "overlap": 0.5}})";
    const auto windowed = Model::load(dir.path().string());
    Geometry g;
    g.dims = {80, 80, 80};
    Study study;
    study.geometry = g;
    study.channels = {test::makeVolume(g, [](auto i, auto, auto) { return float(i % 7); }),
                      test::makeVolume(g, [](auto, auto j, auto) { return float(j % 5); })};
    const Target target = boxTarget(study, 1, {10, 8, 8}, {27, 25, 21});
    ExplainParameters p;
    p.layer = "model.1";
    setenv("SEGXAI_MEMORY_LIMIT_MB", "1", 1);
    CHECK_THROWS_WITH(explain(*windowed, study, target, {Method::SegGradCam}, p),
                      Catch::Contains("a CAM at layer 'model.1' through sliding windows") &&
                          Catch::Contains("(64000 layer voxels) for the activation: ") &&
                          Catch::Contains("2.3 MB in float32, and 1.0 MB is available") &&
                          Catch::Contains("choose a coarser layer"));
    CHECK_THROWS_WITH(explain(*windowed, study, target, {Method::SegHiResGradCam}, p),
                      Catch::Contains("(64000 layer voxels) for the activation and the gradient of 1 target: ") &&
                          Catch::Contains("4.4 MB in float32, and 1.0 MB is available"));
    unsetenv("SEGXAI_MEMORY_LIMIT_MB");
}

TEST_CASE("every method gives finite maps that light up around a demo lesion", "[explain][models][demo]") {
    const auto model = Model::load(SEGXAI_ASSET_DIR "/models/lesions");
    const DemoCase c = makeDemoCase(DemoTemplates::load(), DemoTask::Lesions, kFirstHeldOutSeed);
    Study study;
    study.geometry = c.groundTruth.geometry;
    study.channels = c.channels;
    const Segmentation s = segmentStudy(*model, study);
    // The largest predicted lesion.
    const Target all = resolveTarget(parseTargetSpec("class:lesion"), study, s);
    REQUIRE(all.voxelCount > 100);
    size_t first = 0;
    while (!all.mask[first])
        ++first;
    const Geometry& g = study.geometry;
    const Index3 v{int64_t(first % size_t(g.dims[0])), int64_t(first / size_t(g.dims[0]) % size_t(g.dims[1])),
                   int64_t(first / size_t(g.dims[0] * g.dims[1]))};
    const Target lesion = resolveTarget(parseTargetSpec(fmt::format("instance:{},{},{}", v[0], v[1], v[2])), study, s);
    // Neighbourhood: within 8 mm of the lesion's bounding box.
    Index3 lo{g.dims[0], g.dims[1], g.dims[2]}, hi{0, 0, 0};
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i)
                if (lesion.mask[g.linearIndex(i, j, k)]) {
                    lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
                    hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
                }
    ExplainParameters p;
    p.samples = 3;
    p.steps = 3;
    p.window = 24;
    p.stride = 24;
    p.layer = "model.1";
    p.coalitions = 8;
    const auto explanations = explain(*model, study, lesion, allMethods(), p, nullptr, &s.labels);
    for (const Explanation& e : explanations) {
        INFO(methodId(e.method));
        CHECK(e.score > 0.0);
        for (const ExplanationMap& explanationMap : e.maps) {
            const Volume values = inStudyGrid(explanationMap, study.geometry);
            const ExplanationMap map{explanationMap.channel, values, explanationMap.signedValues};
            double near = 0.0, total = 0.0;
            bool finite = true;
            for (int64_t k = 0; k < g.dims[2]; ++k)
                for (int64_t j = 0; j < g.dims[1]; ++j)
                    for (int64_t i = 0; i < g.dims[0]; ++i) {
                        const float x = map.values.at(i, j, k);
                        finite = finite && std::isfinite(x);
                        total += std::abs(x);
                        if (i >= lo[0] - 8 && i <= hi[0] + 8 && j >= lo[1] - 8 && j <= hi[1] + 8 && k >= lo[2] - 8 &&
                            k <= hi[2] + 8) {
                            near += std::abs(x);
                        }
                    }
            CHECK(finite);
            CHECK(near > 0.0);
            UNSCOPED_INFO(methodId(e.method) << " " << map.channel << ": share near the lesion " << near / total);
        }
    }
}
