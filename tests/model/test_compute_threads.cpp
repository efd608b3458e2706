// Every core, measured: a heavy LibTorch op (a model's forward) run as an engine job uses the
// configured thread count. (The count is a per-thread setting; it used to be set on the thread that first
// asked for the device only, and work on every other thread ran on one core.) This test
// runs alone (RUN_SERIAL): CPU time per wall time means nothing beside another test.
#include "engine/core/cpu_usage.h"
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/model/device.h"
#include "engine/model/model.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/sample_lanes.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
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

TEST_CASE("a batch's samples are shared out between lanes in order, as evenly as they go", "[model][threads]") {
    const std::vector<std::pair<int64_t, int64_t>> expected{{0, 4}, {4, 3}, {7, 3}};
    for (int lane = 0; lane < 3; ++lane) {
        const LaneShare share = laneShare(10, 3, lane);
        CHECK(share.first == expected[size_t(lane)].first);
        CHECK(share.count == expected[size_t(lane)].second);
    }
    CHECK(laneShare(2, 2, 1).first == 1);
    CHECK(laneShare(2, 2, 1).count == 1);
}

TEST_CASE("lanes run at once, each on a thread of its own with its share of the cores, and a lane's failure "
          "reaches the caller after every lane has finished",
          "[model][threads]") {
    const int threads = computeDevice().threads;
    if (threads < 2) {
        WARN("one core allowed: nothing to split");
        return;
    }
    const auto model = Model::load(SEGXAI_TEST_DATA "/models/wide_fcn.pt");
    CHECK(sampleLanes(*model, 1) == 1);
    CHECK(sampleLanes(*model, 8) == std::min(8, threads));
    std::mutex mutex;
    std::vector<std::thread::id> ids(2);
    std::vector<int> laneThreads(2, 0);
    std::atomic<int> arrived{0};
    std::atomic<bool> metTheOther{true};
    runInLanes(*model, 2, 2, [&](int lane, LaneShare share) {
        CHECK(share.count == 1);
        {
            std::lock_guard lock(mutex);
            ids[size_t(lane)] = std::this_thread::get_id();
            useComputeThreads(); // what every forward does first: it keeps the lane's count
            laneThreads[size_t(lane)] = at::get_num_threads();
        }
        // Each lane waits for the other: only lanes that run at once both get through.
        ++arrived;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        if (arrived.load() < 2) metTheOther = false;
    });
    CHECK(metTheOther);
    CHECK(ids[0] == std::this_thread::get_id());
    CHECK(ids[1] != ids[0]);
    CHECK(laneThreads[0] + laneThreads[1] == threads);
    CHECK(laneThreads[1] == threads / 2);
    CHECK(at::get_num_threads() == threads); // the caller has every core again

    std::atomic<bool> firstFinished{false};
    CHECK_THROWS_WITH(runInLanes(*model, 2, 2,
                                 [&](int lane, LaneShare) {
                                     if (lane == 1) throw Error("lane 1 failed");
                                     std::this_thread::sleep_for(std::chrono::milliseconds(200));
                                     firstFinished = true;
                                 }),
                      "lane 1 failed");
    CHECK(firstFinished);
}

TEST_CASE("a batch's gradient passes split between lanes give every sample's score and input gradient as one pass "
          "per sample does",
          "[model][threads]") {
    const auto model = Model::load(SEGXAI_TEST_DATA "/models/wide_fcn.pt");
    torch::manual_seed(5);
    const torch::Tensor inputs = torch::randn({5, 1, 24, 20, 16});
    const std::vector<ScoreTarget> targets{{(torch::rand({24, 20, 16}) > 0.5).to(torch::kFloat32), 0},
                                           {torch::rand({24, 20, 16}), 0}};
    INFO("lanes: " << sampleLanes(*model, inputs.size(0)));
    const std::vector<PassResult> batch = gradientPasses(*model, inputs, targets, {}, nullptr);
    REQUIRE(batch.size() == targets.size());
    for (size_t t = 0; t < targets.size(); ++t) {
        REQUIRE(batch[t].scores.size() == 5);
        REQUIRE(batch[t].inputGradient.sizes() == inputs.sizes());
        for (int64_t b = 0; b < inputs.size(0); ++b) {
            const PassResult one = gradientPass(*model, inputs.slice(0, b, b + 1), targets[t], {}, nullptr);
            CHECK(batch[t].scores[size_t(b)] == Approx(one.scores[0]).epsilon(1e-5));
            const torch::Tensor g = batch[t].inputGradient[b], expected = one.inputGradient[0];
            CHECK((g - expected).abs().max().item<double>() <= 1e-5 * expected.abs().max().item<double>());
        }
    }
}
