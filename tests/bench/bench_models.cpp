// Benchmark (prints, never fails): forward and forward+backward (input gradient) time and peak
// memory of the demo models at their working size.
//   build/tests/bench_models [repeats]
#include "engine/demo/demo_data.h"
#include "engine/model/device.h"
#include "engine/model/model.h"
#include "engine/model/model_input.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/tensors.h"
#include "tests/bench/peak_memory.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace segxai;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <typename F> std::pair<double, double> measure(int repeats, F&& run) {
    run(); // warm-up: allocator, executor
    std::vector<double> ms;
    bench::resetPeakMemory();
    const double before = bench::currentMemoryMiB();
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        run();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return {median(ms), bench::peakMemoryMiB() - before};
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::printf("device: %s\n", computeDevice().description.c_str());
    std::printf("%-10s %-22s %12s %12s %8s %14s %14s\n", "model", "input", "forward ms", "fwd+bwd ms", "ratio",
                "fwd peak MiB", "f+b peak MiB");
    const DemoTemplates templates = DemoTemplates::load();
    for (DemoTask task : {DemoTask::Lesions, DemoTask::Anatomy}) {
        const auto model = Model::load(std::string(SEGXAI_ASSET_DIR) + "/models/" + demoTaskName(task));
        const DemoCase c = makeDemoCase(templates, task, kFirstHeldOutSeed);
        Study study;
        study.geometry = c.groundTruth.geometry;
        study.channels = c.channels;
        const ModelInput input = prepareModelInput(study, model->card(), model->expectedInputChannels());
        const torch::Tensor x = volumesToTensor(input.channels, false);
        const auto forward = measure(repeats, [&] {
            torch::InferenceMode noGrad;
            forwardModel(*model, x, nullptr, false);
        });
        const auto backward = measure(repeats, [&] {
            const torch::Tensor leaf = x.clone().requires_grad_(true);
            const torch::Tensor out = forwardModel(*model, leaf, nullptr, false);
            out.select(1, 1).sum().backward();
        });
        const std::string shape = std::to_string(x.size(1)) + "x" + std::to_string(x.size(2)) + "x" +
                                  std::to_string(x.size(3)) + "x" + std::to_string(x.size(4));
        std::printf("%-10s %-22s %12.1f %12.1f %8.2f %14.0f %14.0f\n", demoTaskName(task), shape.c_str(), forward.first,
                    backward.first, backward.first / forward.first, forward.second, backward.second);
    }
    return 0;
}
