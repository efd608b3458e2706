// Benchmark (prints, never fails): SmoothGrad of every lesion of the lesion demo at once,
// as a ratio to n x (1 forward + L backwards) measured with the bare passes right before it.
//   build/tests/bench_lesions [repeats = 5] [samples = 5]
// Bar (issue "Lesion-level analysis"): all-lesion SmoothGrad <= 1.1 x n x (1 forward + L
// backwards). Also printed: what explaining the lesions one by one would cost.
#include "engine/analysis/lesion_analysis.h"
#include "engine/analysis/lesion_report.h"
#include "engine/demo/demo_data.h"
#include "engine/explain/explanation.h"
#include "engine/model/device.h"
#include "engine/model/inference.h"
#include "engine/model/model_input.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/tensors.h"
#include "tests/bench/timing.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <torch/csrc/autograd/autograd.h>

using namespace segxai;
using bench::seconds;

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const int samples = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    std::printf("device: %s\n", computeDevice().description.c_str());
    const auto model = Model::load(std::string(SEGXAI_ASSET_DIR) + "/models/lesions");
    const DemoCase c = makeDemoCase(DemoTemplates::load(), DemoTask::Lesions, kFirstHeldOutSeed);
    Study study;
    study.geometry = c.groundTruth.geometry;
    study.channels = c.channels;
    study.groundTruth = c.groundTruth;
    const Segmentation s = segmentStudy(*model, study);
    const LesionSet lesions = findLesions(s, &*study.groundTruth, {});
    std::vector<Target> targets;
    for (const Lesion& l : lesions.lesions)
        targets.push_back(lesionTarget(lesions, l.id));
    const size_t L = targets.size();
    const ModelInput input = prepareModelInput(study, model->card(), model->expectedInputChannels());
    const torch::Tensor x = volumesToTensor(input.channels, false);
    std::vector<ScoreTarget> scores;
    for (const Target& t : targets)
        scores.push_back({maskOnModelGrid(t.mask, study.geometry, input.grid, false), t.classIndex});
    std::printf("%zu lesions; model input %lldx%lldx%lld; n = %d samples\n", L, (long long)x.size(2),
                (long long)x.size(3), (long long)x.size(4), samples);

    // The bare work: one forward that keeps its graph, then L backwards to the input.
    auto bare = [&] {
        Padding padding;
        const torch::Tensor padded = padForModel(*model, x, padding);
        const WindowForward f = forwardWithGrad(*model, padded, {});
        for (size_t t = 0; t < L; ++t) {
            Padding weightPadding;
            const torch::Tensor w = padForModel(*model, scores[t].weights.unsqueeze(0), weightPadding).squeeze(0);
            torch::autograd::grad({(classScores(f.output, scores[t].classIndex) * w).sum()}, {f.leaf}, {}, t + 1 < L);
        }
    };
    auto oneByOne = [&] {
        for (size_t t = 0; t < L; ++t)
            gradientPass(*model, x, scores[t], {}, nullptr);
    };
    LesionExplainOptions options;
    options.samples = samples;
    bare();
    // The fixed costs around the samples: preparing the input once, noise per sample, the
    // unperturbed scores once.
    std::printf("fixed costs: input %.3f s, noise %.3f s per sample, scores %.3f s\n",
                seconds([&] { prepareModelInput(study, model->card(), model->expectedInputChannels()); }), seconds([&] {
                    auto generator = at::make_generator<at::CPUGeneratorImpl>(uint64_t(5));
                    torch::randn(x.sizes(), generator, torch::kFloat32);
                }),
                seconds([&] { scoreBatch(*model, x, scores[0]); }));
    std::vector<double> ratios, oneByOneRatios;
    double explainSeconds = 0.0;
    // This shared machine's speed drifts by tens of per cent over a minute: each run's
    // reference is the mean of bare passes right before and right after it.
    for (int r = 0; r < repeats; ++r) {
        const double before = seconds(bare);
        explainSeconds = seconds([&] { explainLesions(*model, study, targets, options); });
        const double after = seconds(bare);
        const double reference = 0.5 * (before + after);
        ratios.push_back(explainSeconds / (samples * reference));
        oneByOneRatios.push_back(seconds(oneByOne) / reference);
        std::printf("  run %d: 1 forward + %zu backwards %.3f / %.3f s; all-lesion SmoothGrad %.2f s\n", r + 1, L,
                    before, after, explainSeconds);
    }
    std::sort(ratios.begin(), ratios.end());
    std::sort(oneByOneRatios.begin(), oneByOneRatios.end());
    const double ratio = ratios[ratios.size() / 2];
    std::printf("all-lesion SmoothGrad / (n x (1 forward + L backwards)): %.3f (bar 1.10: %s)\n", ratio,
                ratio <= 1.1 ? "met" : "not met");
    std::printf("one forward + backward per lesion instead: %.2f x the shared pass per sample\n",
                oneByOneRatios[oneByOneRatios.size() / 2]);
    return 0;
}
