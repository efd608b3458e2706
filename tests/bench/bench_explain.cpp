// Benchmark (prints, never fails): the cost of each explanation method as a ratio to one
// forward + backward (input gradient only) of the same model, input and target.
//   build/tests/bench_explain [repeats] [samples]
// Bars (issue "Explanation engine"): each CAM method <= 1.15, all gradient methods together
// <= 1.3, SmoothGrad and IG with n samples <= 1.1 n, occlusion <= 1.1 x its windows' forwards.
// "pass" times the gradient work alone (model grid, input prepared); "end to end" times
// explain() as the command line and the viewer call it (input preparation, target mapping
// and map conversion included). Each ratio divides by a reference measured right before it,
// so slow drifts of this shared machine cancel.
#include "engine/core/resample.h"
#include "engine/demo/demo_data.h"
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
#include <fmt/format.h>
#include <functional>

using namespace segxai;
using bench::medianSeconds;
using Clock = std::chrono::steady_clock;

namespace {

// Median over repeats of t(run) / t(reference), the two timed back to back each time.
double pairedRatio(int repeats, const std::function<void()>& reference, const std::function<void()>& run,
                   double referenceUnits = 1.0) {
    reference();
    run();
    std::vector<double> ratios;
    for (int r = 0; r < repeats; ++r) {
        auto start = Clock::now();
        reference();
        const double a = std::chrono::duration<double>(Clock::now() - start).count();
        start = Clock::now();
        run();
        const double b = std::chrono::duration<double>(Clock::now() - start).count();
        ratios.push_back(b / (a * referenceUnits));
    }
    std::sort(ratios.begin(), ratios.end());
    return ratios[ratios.size() / 2];
}

void printRow(const char* name, double passRatio, double endRatio, double seconds, double bar) {
    std::printf("%-28s %8s %12.3f %10.3f %6.2f %5s\n", name,
                passRatio > 0 ? fmt::format("{:.3f}", passRatio).c_str() : "-", endRatio, seconds, bar,
                endRatio <= bar ? "yes" : "no");
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const int samples = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
    std::printf("device: %s\n", computeDevice().description.c_str());
    const auto model = Model::load(std::string(SEGXAI_ASSET_DIR) + "/models/lesions");
    const DemoCase c = makeDemoCase(DemoTemplates::load(), DemoTask::Lesions, kFirstHeldOutSeed);
    Study study;
    study.geometry = c.groundTruth.geometry;
    study.channels = c.channels;
    const Segmentation s = segmentStudy(*model, study);
    const Target target = resolveTarget(parseTargetSpec("class:lesion"), study, s);
    const ModelInput input = prepareModelInput(study, model->card(), model->expectedInputChannels());
    const torch::Tensor x = volumesToTensor(input.channels, false);
    Volume weights(input.grid, "target");
    weights.voxels = scatterLinear(target.mask, study.geometry, input.grid);
    const ScoreTarget score{volumesToTensor({weights}, false)[0][0], target.classIndex};
    const std::string layer = model->card().camLayer;
    std::printf("study %s; model input %lldx%lldx%lld (2 mm); layer %s; target %s\n", study.geometry.describe().c_str(),
                (long long)x.size(2), (long long)x.size(3), (long long)x.size(4), layer.c_str(),
                target.description.c_str());

    auto reference = [&] { return medianSeconds(repeats, [&] { gradientPass(*model, x, score, {}, nullptr); }); };
    const double forward = medianSeconds(repeats, [&] { scoreBatch(*model, x, score); });
    std::printf("reference forward+backward %.3f s; no-grad forward %.3f s\n\n", reference(), forward);
    std::printf("%-28s %8s %12s %10s %6s %5s\n", "method", "pass", "end to end", "seconds", "bar", "met");

    ExplainParameters p;
    const Method cams[] = {Method::SegGradCam, Method::SegHiResGradCam, Method::SegGradCamPlusPlus};
    const auto plain = [&] { gradientPass(*model, x, score, {}, nullptr); };
    for (int m = 0; m < 3; ++m) {
        std::array<bool, 3> which{false, false, false};
        which[size_t(m)] = true;
        const double pass = pairedRatio(repeats, plain, [&] {
            gradientPass(*model, x, score, {layer, true, CamPlusPlusVariant::Paper, which}, nullptr);
        });
        const double end = pairedRatio(repeats, plain, [&] { explain(*model, study, target, {cams[m]}, p); });
        printRow(methodId(cams[m]), pass, end, medianSeconds(1, [&] { explain(*model, study, target, {cams[m]}, p); }),
                 1.15);
    }
    std::vector<Method> gradientFamily;
    for (Method m : allMethods()) {
        if (isGradientFamily(m)) gradientFamily.push_back(m);
    }
    {
        const double pass = pairedRatio(repeats, plain, [&] {
            gradientPass(*model, x, score, {layer, true}, nullptr);
        });
        const double end = pairedRatio(repeats, plain, [&] { explain(*model, study, target, gradientFamily, p); });
        printRow("all 6 gradient methods", pass, end,
                 medianSeconds(1, [&] { explain(*model, study, target, gradientFamily, p); }), 1.3);
    }
    p.samples = samples;
    p.steps = samples;
    for (Method m : {Method::SmoothGrad, Method::IntegratedGradients}) {
        double seconds = 0.0;
        const double end = pairedRatio(
            std::max(1, repeats / 3), plain,
            [&] {
                const auto start = Clock::now();
                explain(*model, study, target, {m}, p);
                seconds = std::chrono::duration<double>(Clock::now() - start).count();
            },
            samples);
        printRow(fmt::format("{} (n = {})", methodId(m), samples).c_str(), -1.0, end, seconds, 1.1);
    }
    p.window = 24;
    p.stride = 24;
    const int windows =
        int(std::ceil(double(x.size(2)) / 24) * std::ceil(double(x.size(3)) / 24) * std::ceil(double(x.size(4)) / 24));
    double seconds = 0.0;
    const double occlusion = pairedRatio(
        1, [&] { scoreBatch(*model, x, score); },
        [&] {
            const auto start = Clock::now();
            explain(*model, study, target, {Method::Occlusion}, p);
            seconds = std::chrono::duration<double>(Clock::now() - start).count();
        },
        windows);
    printRow(fmt::format("occlusion ({} windows)", windows).c_str(), -1.0, occlusion, seconds, 1.1);
    return 0;
}
