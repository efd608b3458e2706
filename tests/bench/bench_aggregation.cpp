// Benchmark (prints, never fails): every class of the anatomy demo explained at once, as a
// ratio to (1 forward + K backwards) measured with the bare passes right before and after;
// then the same model through sliding windows, every class's input gradient in one pass
// (each window's forward shared by the classes it touches) against one pass per class.
//   build/tests/bench_aggregation [repeats = 5] [samples = 5] [window patch = 48]
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
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <torch/csrc/autograd/autograd.h>

using namespace segxai;
using bench::seconds;

namespace {

const std::filesystem::path kWindowedFolder = std::filesystem::temp_directory_path() / "segxai-bench-windowed";

// The anatomy model with a card that runs it by `patch`^3 windows overlapping by half (in
// kWindowedFolder).
std::shared_ptr<const Model> windowedAnatomyModel(int patch) {
    const std::filesystem::path from = std::string(SEGXAI_ASSET_DIR) + "/models/anatomy";
    const std::filesystem::path& to = kWindowedFolder;
    std::filesystem::create_directories(to);
    std::filesystem::copy_file(from / "model.pt", to / "model.pt", std::filesystem::copy_options::overwrite_existing);
    std::stringstream card;
    card << std::ifstream(from / "model.json").rdbuf();
    std::string text = card.str();
    text.insert(text.find('{') + 1,
                "\"sliding_window\": {\"patch\": " + std::to_string(patch) + ", \"overlap\": 0.5},");
    std::ofstream(to / "model.json") << text;
    return Model::load(to.string());
}

// Every target's input gradient through sliding windows, in one pass against one pass per
// target, timed alternately.
void windowedTargets(const torch::Tensor& x, const std::vector<ScoreTarget>& targets, int patch, int repeats) {
    const auto model = windowedAnatomyModel(patch);
    auto together = [&] { gradientPasses(*model, x, targets, {}, nullptr); };
    auto oneByOne = [&] {
        for (const ScoreTarget& t : targets)
            gradientPass(*model, x, t, {}, nullptr);
    };
    together();
    std::vector<double> ratios;
    for (int r = 0; r < repeats; ++r) {
        const double alone = seconds(oneByOne), shared = seconds(together);
        ratios.push_back(shared / alone);
        std::printf("  sliding windows run %d: %zu targets one by one %.2f s, together %.2f s\n", r + 1, targets.size(),
                    alone, shared);
    }
    std::printf("sliding windows (%d^3, overlap 0.5), %zu classes' input gradients together / one by one: %.3f\n",
                patch, targets.size(), bench::median(ratios));
    std::filesystem::remove_all(kWindowedFolder);
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const int samples = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const int patch = argc > 3 ? std::max(16, std::atoi(argv[3])) : 48;
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
    windowedTargets(x, targets, patch, repeats);
    return 0;
}
