#include "engine/core/error.h"
#include "engine/core/job_runner.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <thread>

using namespace segxai;
using namespace std::chrono_literals;

namespace {

std::vector<JobReport> drainUntil(JobRunner& runner, size_t count) {
    std::vector<JobReport> all;
    for (int tries = 0; tries < 500 && all.size() < count; ++tries) {
        runner.waitIdle();
        for (auto& r : runner.drain())
            all.push_back(std::move(r));
        if (all.size() < count) std::this_thread::sleep_for(5ms);
    }
    return all;
}

const JobSlot kA{"a"}, kB{"b"}, kC{"c"}, kD{"d"}, kSlow{"slow"}, kBlocker{"blocker"}, kExplain{"explain"};

} // namespace

TEST_CASE("a job's value reaches its completion, with its type, on the draining thread, and wakes the UI", "[jobs]") {
    std::atomic<int> wakes{0};
    JobRunner::Options options;
    options.wake = [&] { ++wakes; };
    JobRunner runner(options);
    std::optional<int> value;
    std::thread::id completedOn;
    runner.submit(
        kA, "answer",
        [](JobContext& job) {
            job.progress(0.5f, "halfway");
            return 42;
        },
        [&](int v) {
            value = v;
            completedOn = std::this_thread::get_id();
        });
    const auto results = drainUntil(runner, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].status == JobStatus::Succeeded);
    CHECK(value == 42);
    CHECK(completedOn == std::this_thread::get_id());
    CHECK(results[0].title == "answer");
    // The wake call follows the result into the inbox; give the worker a moment.
    for (int n = 0; n < 1000 && wakes.load() == 0; ++n)
        std::this_thread::sleep_for(1ms);
    CHECK(wakes.load() >= 1);
}

TEST_CASE("exceptions end at the job boundary as failed reports, to the job's handler or the runner's", "[jobs]") {
    JobRunner runner;
    std::vector<std::string> handled, byRunner;
    runner.setFailureHandler([&](const JobReport& r) { byRunner.push_back(r.error); });
    bool completed = false;
    auto never = [&](int) { completed = true; };
    runner.submit(
        kA, "user error", [](JobContext&) -> int { throw Error("model expects 2 channels"); }, never,
        [&](const JobReport& r) { handled.push_back(r.error); });
    runner.submit(
        kB, "library error", [](JobContext&) -> int { throw std::runtime_error("c10 said no"); }, never);
    runner.submit(
        kC, "anything", [](JobContext&) -> int { throw 7; }, never);
    const auto results = drainUntil(runner, 3);
    REQUIRE(results.size() == 3);
    for (const auto& r : results)
        CHECK(r.status == JobStatus::Failed);
    CHECK(results[0].error == "model expects 2 channels");
    CHECK(results[1].error == "c10 said no");
    CHECK(results[2].error == "unknown error");
    CHECK(handled == std::vector<std::string>{"model expects 2 channels"});
    CHECK(byRunner == std::vector<std::string>{"c10 said no", "unknown error"});
    CHECK_FALSE(completed);
    // The runner still works after failures; work without a value completes with no argument.
    bool done = false;
    runner.submit(
        kD, "fine", [](JobContext&) {}, [&] { done = true; });
    CHECK(drainUntil(runner, 1).at(0).status == JobStatus::Succeeded);
    CHECK(done);
}

TEST_CASE("cancel stops a running job between steps and reports it", "[jobs]") {
    JobRunner runner;
    std::atomic<bool> started{false};
    std::atomic<int> steps{0};
    const uint64_t id = runner.submit(
        kSlow, "slow loop",
        [&](JobContext& job) {
            started = true;
            for (int n = 0; n < 100000; ++n) {
                job.throwIfStopped();
                job.progress(float(n) / 100000.0f, "looping");
                ++steps;
                std::this_thread::sleep_for(1ms);
            }
        },
        [] {});
    while (!started)
        std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);
    const auto active = runner.active();
    REQUIRE(active.size() == 1);
    CHECK(active[0].running);
    CHECK(active[0].stage == "looping");
    CHECK(active[0].fraction > 0.0f);
    CHECK(runner.busy(kSlow));
    CHECK_FALSE(runner.busy(kA));
    runner.cancel(id);
    const auto results = drainUntil(runner, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].status == JobStatus::Cancelled);
    CHECK(steps.load() < 100000);
    CHECK(runner.idle());
}

TEST_CASE("a newer request in a slot supersedes the older one", "[jobs]") {
    JobRunner runner;
    std::atomic<bool> release{false};
    // Occupy the worker so the next two requests queue.
    runner.submit(
        kBlocker, "blocker",
        [&](JobContext&) {
            while (!release)
                std::this_thread::sleep_for(1ms);
        },
        [] {});
    std::vector<int> values;
    runner.submit(
        kExplain, "first", [](JobContext&) { return 1; }, [&](int v) { values.push_back(v); });
    runner.submit(
        kExplain, "second", [](JobContext&) { return 2; }, [&](int v) { values.push_back(v); });
    CHECK(runner.latestGeneration(kExplain) == 2);
    release = true;
    const auto results = drainUntil(runner, 2);
    REQUIRE(results.size() == 2);
    CHECK(results[0].slot == "blocker");
    CHECK(results[1].title == "second");
    CHECK(values == std::vector<int>{2});
}

TEST_CASE("a running job's result is dropped when a newer one was requested", "[jobs]") {
    JobRunner runner;
    std::atomic<bool> started{false};
    std::vector<int> values;
    runner.submit(
        kExplain, "old",
        [&](JobContext&) {
            started = true;
            std::this_thread::sleep_for(30ms); // ignores the stop request on purpose
            return 1;
        },
        [&](int v) { values.push_back(v); });
    while (!started)
        std::this_thread::sleep_for(1ms);
    runner.submit(
        kExplain, "new", [](JobContext&) { return 2; }, [&](int v) { values.push_back(v); });
    const auto results = drainUntil(runner, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].title == "new");
    CHECK(values == std::vector<int>{2});
}

TEST_CASE("progress of nested steps composes into the parent's range", "[jobs]") {
    StandaloneJob job;
    JobContext context = job.context();
    JobContext second = context.sub(0.5f, 1.0f);
    second.progress(0.5f, "inner");
    CHECK(job.control().fraction() == Approx(0.75f));
    CHECK(job.control().stage() == "inner");
    second.sub(0.0f, 0.5f).progress(1.0f);
    CHECK(job.control().fraction() == Approx(0.75f));
}

TEST_CASE("destroying the runner stops running jobs", "[jobs]") {
    std::atomic<bool> started{false};
    auto runner = std::make_unique<JobRunner>();
    runner->submit(
        kSlow, "slow",
        [&](JobContext& job) {
            started = true;
            while (true) {
                job.throwIfStopped();
                std::this_thread::sleep_for(1ms);
            }
        },
        [] {});
    while (!started)
        std::this_thread::sleep_for(1ms);
    const auto begin = std::chrono::steady_clock::now();
    runner.reset();
    CHECK(std::chrono::steady_clock::now() - begin < 2s);
}
