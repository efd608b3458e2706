// Benchmark (prints, never fails): the time SegXAI spends per nnU-Net sliding window (one
// forward of the rebuilt TorchScript network plus nnU-Net's half-precision accumulation) and
// per plain forward, for a PlainConvUNet the size nnU-Net plans for a CT dataset at 64^3
// patches (features 32-320, 5 stages), random weights. tests/bench/nnunet_forward.py times
// one forward of dynamic_network_architectures' PlainConvUNet of the same plan in PyTorch.
//   build/tests/bench_nnunet [repeats]
#include "engine/model/device.h"
#include "engine/torch/nnunet_network.h"
#include "engine/torch/nnunet_predict.h"

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

template <typename F> double medianMs(int repeats, F&& run) {
    run(); // warm-up: allocator, executor
    std::vector<double> ms;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        run();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return median(ms);
}

// What nnU-Net's planner gives a CT dataset with 64^3 patches: 5 stages, 32 to 320 features.
NnunetNetwork benchNetwork() {
    NnunetNetwork n;
    n.features = {32, 64, 128, 256, 320};
    n.kernels.assign(5, {3, 3, 3});
    n.strides = {{1, 1, 1}, {2, 2, 2}, {2, 2, 2}, {2, 2, 2}, {2, 2, 2}};
    n.perStage.assign(5, 2);
    n.perDecoderStage.assign(4, 2);
    n.inputChannels = 1;
    n.outputChannels = 3;
    return n;
}

} // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    std::printf("%s\n", computeDevice().description.c_str());
    torch::manual_seed(0);
    NnunetEnsemble e;
    e.plan.network = benchNetwork();
    e.plan.patch = {64, 64, 64};
    e.plan.labels.heads = 3;
    e.plan.folds = {{"0", "random weights"}};
    e.mirroring = false;
    torch::jit::Module network = buildNnunetNetwork(e.plan.network);
    for (auto p : network.parameters())
        p.normal_(0.0, 0.05).requires_grad_(false);
    e.folds.push_back(network);
    torch::InferenceMode noGrad;
    const torch::Tensor window = torch::randn({1, 1, 64, 64, 64});
    const double forward = medianMs(repeats, [&] { network.forward({window}); });
    auto run = [&](size_t, const torch::Tensor& w) { return network.forward({w}).toTensor(); };
    // An input of exactly one patch: one window, padded to nothing.
    const double oneWindow = medianMs(repeats, [&] { nnunetPredictLogits(e, window, run, nullptr); });
    // The window's own work without the network: padding, Gaussian, half-precision sums.
    const torch::Tensor zeros = torch::zeros({1, 3, 64, 64, 64});
    auto none = [&](size_t, const torch::Tensor&) { return zeros; };
    const double bookkeeping = medianMs(repeats, [&] { nnunetPredictLogits(e, window, none, nullptr); });
    std::printf("PlainConvUNet 32-320, patch 64^3: forward %.1f ms, one sliding window %.1f ms (of which %.1f ms "
                "without the network; median of %d)\n",
                forward, oneWindow, bookkeeping, repeats);
    return 0;
}
