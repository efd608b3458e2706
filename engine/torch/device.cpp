#include "engine/model/device.h"

#include "engine/core/cpu_cores.h"

#include <fmt/format.h>
#include <thread>
#include <torch/torch.h>
#include <torch/version.h>

namespace segxai {

const ComputeDevice& computeDevice() {
    static const ComputeDevice device = [] {
        ComputeDevice d;
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
