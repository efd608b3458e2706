// Benchmark (prints, never fails): every class of the anatomy demo explained at once, as a
// ratio to (1 forward + K backwards) measured with the bare passes right before and after.
//   build/tests/bench_aggregation [repeats = 5] [samples = 5]
// Bar (issue "Aggregation"): <= 1.15 x (1 forward + K backwards) per sample.
#include "engine/analysis/aggregation.h"
#include "engine/demo/demo_data.h"
#include "engine/model/device.h"
#include "engine/model/inference.h"
#include "engine/model/model_input.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/tensors.h"
#include "tests/bench/timing.h"

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
    const auto model = Model::load(std::string(SEGXAI_ASSET_DIR) + "/models/anatomy");
    const DemoCase c = makeDemoCase(DemoTemplates::load(), DemoTask::Anatomy, kFirstHeldOutSeed);
    Study study;
    study.geometry = c.groundTruth.geometry;
    study.channels = c.channels;
    const Segmentation s = segmentStudy(*model, study);
    const ModelInput input = prepareModelInput(study, model->card(), model->expectedInputChannels());
    const torch::Tensor x = volumesToTensor(input.channels, false);
    std::vector<ScoreTarget> targets;
    for (int k = 1; k < int(s.classNames.size()); ++k) {
        std::vector<uint8_t> mask(s.labels.labels.size());
        for (size_t n = 0; n < mask.size(); ++n)
            mask[n] = s.labels.labels[n] == k;
        targets.push_back({maskOnModelGrid(mask, study.geometry, input.grid, false), k});
    }
    const size_t K = targets.size();
    std::printf("%zu classes; model input %lldx%lldx%lld\n", K, (long long)x.size(2), (long long)x.size(3),
                (long long)x.size(4));
    auto bare = [&] {
        Padding padding;
        const torch::Tensor padded = padForModel(*model, x, padding);
        const WindowForward f = forwardWithGrad(*model, padded, {});
        for (size_t t = 0; t < K; ++t) {
            Padding weightPadding;
            const torch::Tensor w = padForModel(*model, targets[t].weights.unsqueeze(0), weightPadding).squeeze(0);
            torch::autograd::grad({(classScores(f.output, targets[t].classIndex) * w).sum()}, {f.leaf}, {}, t + 1 < K);
        }
    };
    bare();
    for (auto [method, n] : {std::pair{Method::Saliency, 1}, std::pair{Method::SmoothGrad, samples}}) {
        ExplainParameters p;
        p.samples = n;
        std::vector<double> ratios;
        for (int r = 0; r < repeats; ++r) {
            const double before = seconds(bare);
            const double run = seconds([&] { aggregateStudy(*model, study, s, method, p); });
            const double after = seconds(bare);
            ratios.push_back(run / (double(n) * 0.5 * (before + after)));
            std::printf("  %s run %d: bare %.3f / %.3f s, aggregation %.2f s\n", methodId(method), r + 1, before, after,
                        run);
        }
        std::sort(ratios.begin(), ratios.end());
        const double ratio = ratios[ratios.size() / 2];
        std::printf("%s (n = %d), all %zu classes with their aggregation / (n x (1 forward + K backwards)): %.3f (bar "
                    "1.15: %s)\n",
                    methodId(method), n, K, ratio, ratio <= 1.15 ? "met" : "not met");
    }
    return 0;
}
