#include "engine/model/device.h"

#include "engine/core/cpu_cores.h"
#include "engine/core/log.h"
#include "engine/torch/cpu_block_cache.h"

#include <algorithm>
#include <dlfcn.h>
#include <filesystem>
#include <fmt/format.h>
#include <thread>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace segxai {
namespace {

// The file that serves sgemm_ in this process, with symbolic links (Debian's alternatives)
// resolved, so that it names the implementation.
std::string loadedBlasLibrary() {
    void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
    Dl_info info{};
    if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return {};
    std::error_code error;
    const auto resolved = std::filesystem::canonical(info.dli_fname, error);
    return error ? std::string(info.dli_fname) : resolved.string();
}

std::string blasName(const std::string& library) {
    for (const auto& [part, name] :
         {std::pair{"openblas", "OpenBLAS"}, std::pair{"blis", "BLIS"}, std::pair{"mkl", "MKL"},
          std::pair{"atlas", "ATLAS"}, std::pair{"/blas/libblas", "reference BLAS"}}) {
        if (library.find(part) != std::string::npos) return name;
    }
    return std::filesystem::path(library).filename().string();
}

} // namespace

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
        useCpuBlockCache(); // before the first model: its buffers are the ones that fragment a heap
        d.cuda = torch::cuda::is_available();
        d.threads = usableCores();
        d.blasLibrary = loadedBlasLibrary();
        d.referenceBlas = blasName(d.blasLibrary) == "reference BLAS";
        d.description = d.cuda ? fmt::format("CUDA ({} GPU), LibTorch {}", torch::cuda::device_count(), TORCH_VERSION)
                               : fmt::format("CPU, {} threads, LibTorch {}", d.threads, TORCH_VERSION);
        if (!d.cuda && !d.blasLibrary.empty()) d.description += ", " + blasName(d.blasLibrary);
        // Debian's LibTorch calls whichever BLAS the system's alternatives select; the
        // reference one runs transposed convolutions on one core and about twice as slowly
        // (docs/performance.md#threads).
        if (!d.cuda && d.referenceBlas) {
            logWarning("LibTorch calls the reference BLAS ({}), which is single-threaded and unoptimised: models "
                       "with transposed convolutions run about twice as slowly. Install an optimised one "
                       "(Debian: apt-get install libopenblas0-openmp).",
                       d.blasLibrary);
        }
        return d;
    }();
    return device;
}

namespace {
thread_local int t_scopedThreads = 0; // 0: the device's full count
} // namespace

void useComputeThreads() {
    const int threads = t_scopedThreads > 0 ? t_scopedThreads : computeDevice().threads;
    if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

ComputeThreadsScope::ComputeThreadsScope(int threads) : m_outer(t_scopedThreads) {
    t_scopedThreads = std::max(1, threads);
    useComputeThreads();
}

ComputeThreadsScope::~ComputeThreadsScope() {
    t_scopedThreads = m_outer;
    useComputeThreads();
}

} // namespace segxai
