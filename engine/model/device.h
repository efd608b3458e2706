#pragma once
#include <string>

namespace segxai {

// The compute device the engine uses: CUDA when the linked LibTorch has it and a GPU is
// present, otherwise the CPU with every core.
struct ComputeDevice {
    bool cuda = false;
    int threads = 1;
    std::string description; // "CPU, 2 threads, LibTorch 1.13.1, OpenBLAS"
    // The BLAS LibTorch's CPU kernels call (transposed convolutions, linear layers): its file,
    // and whether it is the unoptimised, single-threaded reference implementation.
    std::string blasLibrary;
    bool referenceBlas = false;
};

// Finds the device once and reports it. Safe to call from any thread, any number of times.
const ComputeDevice& computeDevice();

// Gives the calling thread LibTorch's full intra-op thread count. The count is a per-thread
// setting (OpenMP's): set on one thread, it does not reach work run on another. Every thread
// that runs LibTorch work calls this first (engine workers through
// JobRunner::Options::prepareWorker, the command line's main thread); cheap to repeat.
void useComputeThreads();

// Within its scope the calling thread runs LibTorch work on `threads` threads, and
// useComputeThreads() keeps that count: a lane of a batch split between the cores
// (engine/torch/sample_lanes.h). On leaving, the thread gets the full count back.
class ComputeThreadsScope {
public:
    explicit ComputeThreadsScope(int threads);
    ~ComputeThreadsScope();
    ComputeThreadsScope(const ComputeThreadsScope&) = delete;
    ComputeThreadsScope& operator=(const ComputeThreadsScope&) = delete;

private:
    int m_outer;
};

} // namespace segxai
