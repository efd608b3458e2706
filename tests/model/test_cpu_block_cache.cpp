// LibTorch's large CPU buffers through the block cache (engine/torch/cpu_block_cache.h):
// reused by size, bounded when sizes change, handed back by releaseFreedMemory.
#include "engine/core/memory_budget.h"
#include "engine/torch/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

using namespace segxai;

namespace {

constexpr size_t kMiB = size_t(1) << 20;

torch::Tensor filledBuffer(size_t bytes) {
    return torch::ones({int64_t(bytes / sizeof(float))});
}

} // namespace

TEST_CASE("a freed large buffer is reused for the next of its size and handed back on release", "[model][blocks]") {
    useCpuBlockCache();
    releaseFreedMemory();
    const CpuBlockCacheBytes before = cpuBlockCacheBytes();
    void* first = nullptr;
    {
        const torch::Tensor buffer = filledBuffer(256 * kMiB);
        first = buffer.data_ptr();
        CHECK(cpuBlockCacheBytes().inUse == before.inUse + 256 * kMiB);
    }
    CHECK(cpuBlockCacheBytes().inUse == before.inUse);
    CHECK(cpuBlockCacheBytes().mapped >= before.mapped + 256 * kMiB);
    {
        const torch::Tensor again = filledBuffer(256 * kMiB);
        CHECK(again.data_ptr() == first);
        CHECK(again.sum().item<double>() == double(64 * kMiB));
    }
    const uint64_t resident = residentMemoryBytes();
    releaseFreedMemory();
    CHECK(cpuBlockCacheBytes().mapped == before.mapped);
    CHECK(resident - residentMemoryBytes() >= 250 * kMiB); // the pages went back to the system
}

TEST_CASE("buffers of changing sizes keep the mapped total near the most used at once", "[model][blocks]") {
    useCpuBlockCache();
    releaseFreedMemory();
    // 40 sizes one after the other, each freed before the next: each kept for reuse, they
    // would map 1.2 GB, and each mapped afresh, fault in as much; the cache resizes a waiting
    // block instead (only a grown block's new pages are faulted in).
    const size_t freshBefore = cpuBlockCacheBytes().freshBytes;
    for (size_t megabytes = 10; megabytes < 50; ++megabytes)
        (void)filledBuffer(megabytes * kMiB);
    const CpuBlockCacheBytes bytes = cpuBlockCacheBytes();
    CHECK(bytes.peakInUse >= 49 * kMiB);
    CHECK(bytes.mapped <= bytes.peakInUse + bytes.peakInUse / 2);
    CHECK(bytes.freshBytes - freshBefore <= 200 * kMiB);
    releaseFreedMemory();
}

TEST_CASE("repeated 3D convolutions stay near their peak use and reuse most of their buffers", "[model][blocks]") {
    useCpuBlockCache();
    releaseFreedMemory();
    torch::manual_seed(3);
    const torch::Tensor weight1 = torch::randn({16, 2, 3, 3, 3}), weight2 = torch::randn({4, 16, 3, 3, 3});
    auto window = [&] {
        const torch::Tensor input = torch::randn({1, 2, 64, 64, 64}, torch::requires_grad());
        const torch::Tensor hidden = torch::relu(torch::conv3d(input, weight1, {}, 1, 1));
        const torch::Tensor out = torch::conv3d(hidden, weight2, {}, 1, 1);
        out.sum().backward();
        return input.grad().abs().sum().item<double>();
    };
    const double firstGradient = window();
    const CpuBlockCacheBytes afterFirst = cpuBlockCacheBytes();
    CHECK(afterFirst.mapped >= 16 * 64 * 64 * 64 * sizeof(float)); // the hidden layer came through the cache
    CHECK(firstGradient > 0.0);
    (void)window();
    const CpuBlockCacheBytes afterSecond = cpuBlockCacheBytes();
    constexpr int kRounds = 8;
    for (int round = 0; round < kRounds; ++round)
        (void)window();
    const CpuBlockCacheBytes afterTenth = cpuBlockCacheBytes();
    CHECK(afterTenth.mapped <= afterTenth.peakInUse + afterTenth.peakInUse / 2 + 4096);
    // What a round faults in afresh (a block resized where sizes alternate), against glibc's
    // defaults, which fault in every buffer of every round.
    CHECK((afterTenth.freshBytes - afterSecond.freshBytes) / kRounds <= afterTenth.mapped / 4);
    releaseFreedMemory();
}

TEST_CASE("raw buffers (oneDNN's) come from the cache and go back to it, small ones to the heap", "[model][blocks]") {
    useCpuBlockCache();
    releaseFreedMemory();
    c10::Allocator* allocator = c10::GetCPUAllocator();
    const size_t inUse = cpuBlockCacheBytes().inUse;
    void* large = allocator->raw_allocate(8 * kMiB + 3);
    void* small = allocator->raw_allocate(4096);
    CHECK(cpuBlockCacheBytes().inUse == inUse + 8 * kMiB + 4096); // page-rounded
    static_cast<char*>(large)[8 * kMiB + 2] = 1;
    static_cast<char*>(small)[4095] = 1;
    allocator->raw_deallocate(small);
    allocator->raw_deallocate(large);
    CHECK(cpuBlockCacheBytes().inUse == inUse);
    void* again = allocator->raw_allocate(8 * kMiB + 3);
    CHECK(again == large);
    allocator->raw_deallocate(again);
    releaseFreedMemory();
}
