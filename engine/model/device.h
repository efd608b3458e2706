#pragma once
#include <string>

namespace segxai {

// The compute device the engine uses: CUDA when the linked LibTorch has it and a GPU is
// present, otherwise the CPU with every core.
struct ComputeDevice {
    bool cuda = false;
    int threads = 1;
    std::string description; // "CPU, 2 threads (LibTorch 1.13.1)"
};

// Sets LibTorch's thread counts once (it starts with one intra-op thread) and reports the
// device. Safe to call from any thread, any number of times.
const ComputeDevice& computeDevice();

} // namespace segxai
