// Every core, measured: a heavy LibTorch op (a model's forward) run as an engine job uses the
// configured thread count. (The count is a per-thread setting; it used to be set on the thread that first
// asked for the device only, and work on every other thread ran on one core.) This test
// runs alone (RUN_SERIAL): CPU time per wall time means nothing beside another test.
#include "engine/core/cpu_usage.h"
#include "engine/core/job_runner.h"
#include "engine/model/device.h"
#include "engine/model/model.h"
#include "engine/torch/model_forward.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <thread>
#include <vector>

using namespace segxai;

namespace {

// CPU time per wall time of `threads` threads that only spin for a moment: what this machine
// gives a perfectly parallel job right now (near `threads` when nothing else runs).
double parallelCapacity(int threads) {
    const CpuMeter meter;
    std::vector<std::thread> spinners;
    for (int t = 0; t < threads; ++t) {
        spinners.emplace_back([] {
            const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
            volatile double sink = 0.0;
            while (std::chrono::steady_clock::now() < end)
                sink = sink + 1.0;
        });
    }
    for (auto& s : spinners)
        s.join();
    return meter.cpuPerWall();
}

} // namespace

TEST_CASE("a model's forward on an engine worker keeps every allowed core busy: CPU time exceeds wall time",
          "[model][threads]") {
    const int threads = computeDevice().threads;
    INFO(computeDevice().description);
    if (threads < 2) {
        WARN("one core allowed: nothing to measure");
        return;
    }
    // Wide convolutions: LibTorch spreads them over its threads even for a batch of one (the
    // demo models' narrow layers barely parallelise, in PyTorch too).
    const auto model = Model::load(SEGXAI_TEST_DATA "/models/wide_fcn.pt");
    const torch::Tensor input = torch::randn({1, 1, 64, 64, 64});

    JobRunner runner; // no per-worker preparation: the engine itself must set the thread count
    std::optional<double> cpuPerWall;
    std::map<int, double> before, after;
    const JobSlot slot{"forward"};
    runner.submit(
        slot, "forward",
        [&](JobContext&) {
            torch::InferenceMode noAutograd;
            forwardModel(*model, input, nullptr); // warm-up: first-call costs are not the point
            before = threadCpuSeconds();
            const CpuMeter meter;
            for (int n = 0; n < 3; ++n)
                forwardModel(*model, input, nullptr);
            cpuPerWall = meter.cpuPerWall();
            after = threadCpuSeconds();
        },
        [] {});
    runner.waitIdle();
    for (const JobReport& report : runner.drain())
        REQUIRE(report.status == JobStatus::Succeeded);
    REQUIRE(cpuPerWall.has_value());

    // The work is spread: as many threads as allowed each did a real share of it (this holds
    // on a loaded machine too: each thread then runs slower, but runs).
    std::vector<double> used;
    for (const auto& [thread, seconds] : after)
        used.push_back(seconds - (before.count(thread) ? before.at(thread) : 0.0));
    std::sort(used.rbegin(), used.rend());
    REQUIRE(used.size() >= size_t(threads));
    INFO("CPU seconds of the busiest threads: " << used[0] << ", " << used[1]);
    CHECK(used[size_t(threads) - 1] > 0.25 * used[0]);
    // And when the machine has the cores free (CI runs this test alone), they work at once:
    // CPU time exceeds wall time. (Beside another process's build, no job can show that.)
    const double capacity = parallelCapacity(threads);
    INFO("CPU time / wall time with " << threads << " threads: " << *cpuPerWall << " (spinning threads: " << capacity
                                      << ")");
    if (capacity > 1.6) {
        CHECK(*cpuPerWall > 1.3);
    } else {
        WARN("the machine is busy (" << capacity << " cores free): CPU time / wall time not checked");
    }
}

TEST_CASE("LibTorch's BLAS is found and named, and it is not the single-threaded reference one", "[model][threads]") {
    // Debian's LibTorch calls whichever BLAS the system selects; the install step
    // (cmake/setup.sh) installs OpenBLAS, which halved the scale case's segmentation.
    const ComputeDevice& device = computeDevice();
    INFO(device.blasLibrary);
    REQUIRE_FALSE(device.blasLibrary.empty());
    if (!device.cuda) CHECK_THAT(device.description, Catch::Contains("BLAS") || Catch::Contains("MKL"));
    CHECK_FALSE(device.referenceBlas);
}
