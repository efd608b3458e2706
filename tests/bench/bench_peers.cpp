// Benchmark (prints, never fails): SegXAI against the peers on the model and input
// tests/bench/peers/make_bench_model.py writes, with the Python figures peer_bench.py measured
// just before (tests/bench/peers/compare.sh runs both in one go).
//   build/tests/bench_peers MODEL_DIR PEERS.json... [--repeats N] [--no-curve] [--json OUT]
// Each PEERS.json is one run of peer_bench.py (compare.sh: one with glibc's default allocator,
// one with the allocator settings SegXAI itself uses), each given its own table.
// Every method explains the same score as the peers: the target class's logit summed over
// the voxels the model labels with it. Ratios (issue 16's targets):
//   per SmoothGrad sample and IG step / PyTorch's forward + backward per sample of that batch (<= 1.05)
//   Captum's SmoothGrad(8) and IG(16) / SegXAI's (>= 1.0)
//   pytorch-grad-cam's GradCAM / SegXAI's Seg-Grad-CAM (>= 2), and SegXAI's / PyTorch's B = 1 floor (<= 1.15)
//   SmoothGrad agreement: seconds to Pearson r >= 0.95 against a 256-sample map, SegXAI's noise
//   samplings against Captum's NoiseTunnel (<= 2/3).
#include "engine/core/resample.h"
#include "engine/explain/explanation.h"
#include "engine/model/device.h"
#include "engine/model/inference.h"
#include "engine/model/model.h"
#include "engine/model/model_input.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/tensors.h"
#include "tests/bench/timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

using namespace segxai;
using bench::medianSeconds;
using bench::seconds;

namespace {

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    return nlohmann::json::parse(in);
}

// input.f32 is numpy's C order [1, 1, X, Y, Z] (Z fastest); a Volume is i-fastest.
Study readBenchStudy(const std::string& dir) {
    const auto shape = readJson(dir + "/input.json").at("shape").get<std::vector<int64_t>>();
    if (shape.size() != 5 || shape[0] != 1 || shape[1] != 1)
        throw std::runtime_error("input.json: want [1, 1, X, Y, Z]");
    Geometry g;
    g.dims = {shape[2], shape[3], shape[4]};
    std::vector<float> raw(g.voxelCount());
    std::ifstream in(dir + "/input.f32", std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size() * sizeof(float))))
        throw std::runtime_error("input.f32 is shorter than input.json says");
    Study study;
    study.geometry = g;
    Volume image(g, "image");
    for (int64_t i = 0; i < g.dims[0]; ++i)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t k = 0; k < g.dims[2]; ++k)
                image.at(i, j, k) = raw[size_t((i * g.dims[1] + j) * g.dims[2] + k)];
    study.channels.push_back(std::move(image));
    return study;
}

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
    double ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); ++i)
        ma += a[i], mb += b[i];
    ma /= double(a.size());
    mb /= double(b.size());
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += (a[i] - ma) * (b[i] - mb);
        aa += (a[i] - ma) * (a[i] - ma);
        bb += (b[i] - mb) * (b[i] - mb);
    }
    return ab / std::sqrt(aa * bb);
}

struct Bench {
    std::shared_ptr<const Model> model;
    Study study;
    Target target;
    int repeats = 5;

    std::vector<float> map(Method method, const ExplainParameters& p) const {
        return explain(*model, study, target, {method}, p).front().maps.front().values.voxels;
    }
    double time(Method method, const ExplainParameters& p) const {
        return medianSeconds(repeats, [&] { explain(*model, study, target, {method}, p); });
    }
};

ExplainParameters smoothGradParameters(int samples, NoiseSampling sampling, uint64_t seed) {
    ExplainParameters p;
    p.samples = samples;
    p.noiseFraction = 0.1; // Captum: stdevs = 0.1 * (max - min); one channel, so the same sigma
    p.noiseSampling = sampling;
    p.seed = seed;
    p.batch = std::min(samples, 8);
    return p;
}

// [n, seconds, r] for n = 4 ... 128 against `reference`, and the first (n, seconds) with r >= 0.95.
nlohmann::json smoothGradCurve(const Bench& b, NoiseSampling sampling, const std::vector<float>& reference) {
    nlohmann::json curve = nlohmann::json::array(), first = nullptr;
    for (int n : {4, 8, 16, 32, 64, 128}) {
        std::vector<float> out;
        const double s = seconds([&] { out = b.map(Method::SmoothGrad, smoothGradParameters(n, sampling, 7 + n)); });
        const double r = pearson(out, reference);
        curve.push_back({n, s, r});
        std::printf("  %-12s n = %3d  %8.3f s  r = %.4f\n", noiseSamplingName(sampling), n, s, r);
        if (r >= 0.95 && first.is_null()) first = {{"n", n}, {"seconds", s}};
    }
    return {{"curve", curve}, {"r95", first}};
}

// Prints one row of a ratio table and keeps its ratio in `ratios` under `key`.
void row(nlohmann::json& ratios, const char* key, const char* what, double segxai, double peer, const char* ratioName,
         double ratio, const char* bar) {
    std::printf("%-34s %10.4f %10s %-40s %7.3f  %s\n", what, segxai,
                peer > 0 ? fmt::format("{:.4f}", peer).c_str() : "-", ratioName, ratio, bar);
    ratios[key] = {{"ratio", ratio}, {"what", ratioName}, {"target", bar}};
}

// The ratio table against one peer run (a JSON of peer_bench.py), returned as
// {key: {ratio, what, target}}; rows whose figure the run lacks are left out.
nlohmann::json printRatios(const nlohmann::json& result, const nlohmann::json& peers, const std::string& label) {
    std::printf("\nagainst %s\n%-34s %10s %10s %-40s %7s  %s\n", label.c_str(), "what", "SegXAI s", "peer s", "ratio",
                "value", "target");
    nlohmann::json ratios = nlohmann::json::object();
    const auto pyFloor = [&](int batch) {
        return peers.at("floor_per_sample").at("torchscript").at(std::to_string(batch)).get<double>();
    };
    for (int batch : {1, 8, 16}) {
        const double own = result["floor_per_sample"][std::to_string(batch)];
        row(ratios, fmt::format("floor_b{}", batch).c_str(), fmt::format("floor per sample, B = {}", batch).c_str(),
            own, pyFloor(batch), "SegXAI / PyTorch", own / pyFloor(batch), "(LibTorch vs PyTorch)");
    }
    const double sal = result["saliency"], sg = result["smoothgrad"], igs = result["ig"], cam = result["seg_grad_cam"];
    const auto peer = [&](const char* key) { return peers.contains(key) ? peers.at(key).get<double>() : 0.0; };
    row(ratios, "saliency_floor", "saliency", sal, peer("saliency"), "SegXAI / PyTorch floor B = 1", sal / pyFloor(1),
        "");
    row(ratios, "smoothgrad_floor", "SmoothGrad n = 8 (batch 8)", sg, peer("smoothgrad"),
        "per sample / PyTorch floor B = 8", sg / 8 / pyFloor(8), "<= 1.05");
    if (peers.contains("smoothgrad"))
        row(ratios, "smoothgrad_captum", "", sg, peer("smoothgrad"), "Captum / SegXAI", peer("smoothgrad") / sg,
            ">= 1.0");
    row(ratios, "ig_floor", "IG 16 steps right Riemann (batch 16)", igs, peer("ig"), "per step / PyTorch floor B = 16",
        igs / 16 / pyFloor(16), "<= 1.05");
    if (peers.contains("ig"))
        row(ratios, "ig_captum", "", igs, peer("ig"), "Captum / SegXAI", peer("ig") / igs, ">= 1.0");
    if (peers.contains("gradcam"))
        row(ratios, "cam_gradcam", "Seg-Grad-CAM (card's layer)", cam, peer("gradcam"), "pytorch-grad-cam / SegXAI",
            peer("gradcam") / cam, ">= 2");
    row(ratios, "cam_floor", "", cam, pyFloor(1), "SegXAI / PyTorch floor B = 1", cam / pyFloor(1), "<= 1.15");
    return ratios;
}

} // namespace

int main(int argc, char** argv) {
    Bench b;
    bool curve = true;
    std::string dir, jsonOut;
    std::vector<std::pair<std::string, nlohmann::json>> peerRuns; // (file stem, figures)
    for (int a = 1; a < argc; ++a) {
        const std::string arg = argv[a];
        if (arg == "--no-curve") {
            curve = false;
        } else if (arg == "--json" && a + 1 < argc) {
            jsonOut = argv[++a];
        } else if (arg == "--repeats" && a + 1 < argc) {
            b.repeats = std::max(1, std::atoi(argv[++a]));
        } else if (dir.empty()) {
            dir = arg;
        } else {
            peerRuns.emplace_back(std::filesystem::path(arg).stem().string(), readJson(arg));
        }
    }
    if (dir.empty() || peerRuns.empty()) {
        std::fprintf(stderr, "usage: bench_peers MODEL_DIR PEERS.json... [--repeats N] [--no-curve] [--json OUT]\n");
        return 2;
    }
    const nlohmann::json& peers = peerRuns.front().second;
    useComputeThreads();
    b.model = Model::load(dir);
    b.study = readBenchStudy(dir);
    const Segmentation s = segmentStudy(*b.model, b.study);
    b.target = resolveTarget(
        parseTargetSpec("class:" + b.model->card().className(size_t(peers.value("target_class", 1)))), b.study, s);
    const ModelInput input = prepareModelInput(b.study, b.model->card(), b.model->expectedInputChannels());
    const torch::Tensor x = volumesToTensor(input.channels, false);
    Volume weights(input.grid, "target");
    weights.voxels = scatterLinear(b.target.mask, b.study.geometry, input.grid);
    const ScoreTarget score{volumesToTensor({weights}, false)[0][0], b.target.classIndex};
    std::printf("device: %s; threads: peers %d; input %s; target %s (%zu voxels); %d repeats after 1 warm-up\n",
                computeDevice().description.c_str(), peers.value("threads", 0), b.study.geometry.describe().c_str(),
                b.target.description.c_str(), b.target.voxelCount, b.repeats);

    nlohmann::json result{{"floor_per_sample", nlohmann::json::object()}};
    for (int batch : {1, 8, 16}) {
        const torch::Tensor xb = x.expand({batch, -1, -1, -1, -1}).contiguous();
        const double t = medianSeconds(b.repeats, [&] { gradientPass(*b.model, xb, score, {}, nullptr); });
        result["floor_per_sample"][std::to_string(batch)] = t / batch;
    }
    ExplainParameters ig;
    ig.steps = 16;
    ig.rule = QuadratureRule::RiemannRight;
    ig.batch = 16;
    result["saliency"] = b.time(Method::Saliency, {});
    result["smoothgrad"] = b.time(Method::SmoothGrad, smoothGradParameters(8, NoiseSampling::Independent, 1));
    result["ig"] = b.time(Method::IntegratedGradients, ig);
    result["seg_grad_cam"] = b.time(Method::SegGradCam, {});

    for (const auto& [label, peers] : peerRuns)
        result["ratios"][label] = printRatios(result, peers, label);

    if (curve) {
        std::printf("\nSmoothGrad agreement with a 256-sample map (SegXAI's own, independent noise, seed 1234567):\n");
        std::vector<float> reference;
        result["smoothgrad_reference_seconds"] = seconds([&] {
            reference = b.map(Method::SmoothGrad, smoothGradParameters(256, NoiseSampling::Independent, 1234567));
        });
        for (NoiseSampling sampling : {NoiseSampling::Independent, NoiseSampling::Antithetic})
            result["smoothgrad_curve"][noiseSamplingName(sampling)] = smoothGradCurve(b, sampling, reference);
        for (const auto& [label, run] : peerRuns) {
            const nlohmann::json captum = run.value("smoothgrad_r95", nlohmann::json());
            for (const char* sampling : {"independent", "antithetic"}) {
                const nlohmann::json own = result["smoothgrad_curve"][sampling]["r95"];
                if (own.is_null() || captum.is_null()) {
                    std::printf("r >= 0.95 (%s): SegXAI %s %s, Captum %s\n", label.c_str(), sampling,
                                own.is_null() ? "not reached" : "reached",
                                captum.is_null() ? "not reached (or not measured)" : "reached");
                    continue;
                }
                const double ratio = own["seconds"].get<double>() / captum["seconds"].get<double>();
                std::printf("r >= 0.95 (%s): SegXAI %-11s n = %3d in %7.3f s; Captum NoiseTunnel n = %3d in %7.3f s; "
                            "ratio %.3f (target <= 0.667)\n",
                            label.c_str(), sampling, own["n"].get<int>(), own["seconds"].get<double>(),
                            captum["n"].get<int>(), captum["seconds"].get<double>(), ratio);
            }
        }
    }
    if (!jsonOut.empty()) std::ofstream(jsonOut) << result.dump(2) << "\n";
    return 0;
}
