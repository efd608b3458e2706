#include "engine/model/device.h"

#include "engine/core/cpu_cores.h"

#include <fmt/format.h>
#include <thread>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace segxai {

const ComputeDevice& computeDevice() {
    static const ComputeDevice device = [] {
        ComputeDevice d;
        // TorchScript's profiling executor optimises a graph for the input shapes it saw and
        // falls back to an unoptimised path when they change. Explanations alternate shapes
        // (a batch of SmoothGrad samples, then the input alone), which made SmoothGrad and
        // Integrated Gradients 1.65x slower than the same passes at one shape
        // (docs/performance.md#peer-comparison). The legacy executor specialises per shape
        // and keeps every specialisation. Set before any model runs.
        torch::jit::getProfilingMode() = false;
        d.cuda = torch::cuda::is_available();
        d.threads = usableCores();
        d.description = d.cuda ? fmt::format("CUDA ({} GPU), LibTorch {}", torch::cuda::device_count(), TORCH_VERSION)
                               : fmt::format("CPU, {} threads, LibTorch {}", d.threads, TORCH_VERSION);
        return d;
    }();
    return device;
}

void useComputeThreads() {
    const int threads = computeDevice().threads;
    if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

} // namespace segxai
