// Benchmark (prints, never fails): the cost of each explanation method as a ratio to one
// forward + backward (input gradient only) of the same model, input and target.
//   build/tests/bench_explain [repeats] [samples]
// Bars (issue "Explanation engine"): each CAM method <= 1.15, all gradient methods together
// <= 1.3, SmoothGrad and IG with n samples <= 1.1 n, occlusion <= 1.1 x its windows' forwards.
#include "engine/demo_data.h"
#include "engine/device.h"
#include "engine/explanation.h"
#include "engine/inference.h"
#include "engine/model.h"
#include "engine/model_input.h"
#include "engine/resample.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/tensors.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

using namespace segxai;
using Clock = std::chrono::steady_clock;

namespace {

double medianSeconds(int repeats, const std::function<void()>& run) {
    run(); // warm-up
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
        const auto start = Clock::now();
        run();
        t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    const int samples = argc > 2 ? std::max(1, std::atoi(argv[2])) : 8;
    std::printf("device: %s\n", computeDevice().description.c_str());
    const auto model = Model::load(std::string(SEGXAI_ASSET_DIR) + "/models/lesions");
    const DemoCase c = makeDemoCase(DemoTemplates::load(), DemoTask::Lesions, kFirstHeldOutSeed);
    Study study;
    study.geometry = c.groundTruth.geometry;
    study.channels = c.channels;
    const Segmentation s = segmentStudy(*model, study);
    const Target target = resolveTarget(parseTargetSpec("class:lesion"), study, s);
    std::printf("study %s, model grid 2 mm, target %s\n", study.geometry.describe().c_str(), target.description.c_str());

    // The reference: one forward + backward of S for the input gradient, on the model's grid.
    const ModelInput input = prepareModelInput(study, model->card(), model->expectedInputChannels());
    const torch::Tensor x = volumesToTensor(input.channels, false);
    std::vector<float> mask(target.mask.begin(), target.mask.end());
    Volume weights(input.grid, "target");
    weights.voxels = scatterLinear(mask, study.geometry, input.grid);
    const ScoreTarget score{volumesToTensor({weights}, false)[0][0], target.classIndex};
    const double reference = medianSeconds(repeats, [&] { gradientPass(*model, x, score, {}, nullptr); });
    const double forward = medianSeconds(repeats, [&] { scoreBatch(*model, x, score); });
    std::printf("forward+backward %.3f s, no-grad forward %.3f s\n\n", reference, forward);
    std::printf("%-26s %10s %10s %10s %8s\n", "method", "seconds", "ratio", "bar", "ok");

    auto row = [&](const char* name, double seconds, double units, double bar) {
        const double ratio = seconds / (reference * units);
        std::printf("%-26s %10.3f %10.3f %10.2f %8s\n", name, seconds, ratio, bar, ratio <= bar ? "yes" : "NO");
    };
    ExplainParameters p;
    for (Method m : {Method::SegGradCam, Method::SegHiResGradCam, Method::SegGradCamPlusPlus}) {
        row(methodId(m), medianSeconds(repeats, [&] { explain(*model, study, target, {m}, p); }), 1.0, 1.15);
    }
    std::vector<Method> gradientFamily;
    for (Method m : allMethods()) {
        if (isGradientFamily(m)) gradientFamily.push_back(m);
    }
    row("all gradient methods", medianSeconds(repeats, [&] { explain(*model, study, target, gradientFamily, p); }), 1.0, 1.3);
    p.samples = samples;
    p.steps = samples;
    row("smoothgrad (per sample)", medianSeconds(1, [&] { explain(*model, study, target, {Method::SmoothGrad}, p); }),
        samples, 1.1);
    row("integrated-gradients (/n)", medianSeconds(1, [&] { explain(*model, study, target, {Method::IntegratedGradients}, p); }),
        samples, 1.1);
    p.window = 24;
    p.stride = 24;
    const int windows = int(std::ceil(x.size(2) / 24.0) * std::ceil(x.size(3) / 24.0) * std::ceil(x.size(4) / 24.0));
    const double occlusion = medianSeconds(1, [&] { explain(*model, study, target, {Method::Occlusion}, p); });
    std::printf("%-26s %10.3f %10.3f %10.2f %8s   (%d windows)\n", "occlusion (/window fwd)", occlusion,
                occlusion / (forward * windows), 1.1, occlusion / (forward * windows) <= 1.1 ? "yes" : "NO", windows);
    return 0;
}
