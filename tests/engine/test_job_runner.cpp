#include "engine/core/error.h"
#include "engine/core/job_runner.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace segxai;
using namespace std::chrono_literals;

namespace {

std::vector<JobResult> drainUntil(JobRunner& runner, size_t count) {
    std::vector<JobResult> all;
    for (int tries = 0; tries < 500 && all.size() < count; ++tries) {
        runner.waitIdle();
        for (auto& r : runner.drain()) all.push_back(std::move(r));
        if (all.size() < count) std::this_thread::sleep_for(5ms);
    }
    return all;
}

} // namespace

TEST_CASE("a job's value reaches the inbox and wakes the UI", "[jobs]") {
    std::atomic<int> wakes{0};
    JobRunner runner([&] { ++wakes; });
    runner.submit("a", "answer", [](JobContext& job) {
        job.progress(0.5f, "halfway");
        return std::any(42);
    });
    const auto results = drainUntil(runner, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].status == JobStatus::Succeeded);
    CHECK(std::any_cast<int>(results[0].value) == 42);
    CHECK(results[0].title == "answer");
    // The wake call follows the result into the inbox; give the worker a moment.
    for (int n = 0; n < 1000 && wakes.load() == 0; ++n) std::this_thread::sleep_for(1ms);
    CHECK(wakes.load() >= 1);
}

TEST_CASE("exceptions end at the job boundary as failed results", "[jobs]") {
    JobRunner runner;
    runner.submit("a", "user error", [](JobContext&) -> std::any { throw Error("model expects 2 channels"); });
    runner.submit("b", "library error", [](JobContext&) -> std::any { throw std::runtime_error("c10 said no"); });
    runner.submit("c", "anything", [](JobContext&) -> std::any { throw 7; });
    const auto results = drainUntil(runner, 3);
    REQUIRE(results.size() == 3);
    for (const auto& r : results) CHECK(r.status == JobStatus::Failed);
    CHECK(results[0].error == "model expects 2 channels");
    CHECK(results[1].error == "c10 said no");
    CHECK(results[2].error == "unknown error");
    // The runner still works after failures.
    runner.submit("d", "fine", [](JobContext&) { return std::any(1); });
    CHECK(drainUntil(runner, 1).at(0).status == JobStatus::Succeeded);
}

TEST_CASE("cancel stops a running job between steps and reports it", "[jobs]") {
    JobRunner runner;
    std::atomic<bool> started{false};
    std::atomic<int> steps{0};
    const uint64_t id = runner.submit("slow", "slow loop", [&](JobContext& job) {
        started = true;
        for (int n = 0; n < 100000; ++n) {
            job.throwIfStopped();
            job.progress(float(n) / 100000.0f, "looping");
            ++steps;
            std::this_thread::sleep_for(1ms);
        }
        return std::any(0);
    });
    while (!started) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);
    const auto active = runner.active();
    REQUIRE(active.size() == 1);
    CHECK(active[0].running);
    CHECK(active[0].stage == "looping");
    CHECK(active[0].fraction > 0.0f);
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
    runner.submit("blocker", "blocker", [&](JobContext&) {
        while (!release) std::this_thread::sleep_for(1ms);
        return std::any(0);
    });
    runner.submit("explain", "first", [](JobContext&) { return std::any(1); });
    runner.submit("explain", "second", [](JobContext&) { return std::any(2); });
    CHECK(runner.latestGeneration("explain") == 2);
    release = true;
    const auto results = drainUntil(runner, 2);
    REQUIRE(results.size() == 2);
    CHECK(results[0].slot == "blocker");
    CHECK(results[1].title == "second");
    CHECK(std::any_cast<int>(results[1].value) == 2);
}

TEST_CASE("a running job's result is dropped when a newer one was requested", "[jobs]") {
    JobRunner runner;
    std::atomic<bool> started{false};
    runner.submit("explain", "old", [&](JobContext&) {
        started = true;
        std::this_thread::sleep_for(30ms); // ignores the stop request on purpose
        return std::any(1);
    });
    while (!started) std::this_thread::sleep_for(1ms);
    runner.submit("explain", "new", [](JobContext&) { return std::any(2); });
    const auto results = drainUntil(runner, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].title == "new");
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
    runner->submit("slow", "slow", [&](JobContext& job) {
        started = true;
        while (true) {
            job.throwIfStopped();
            std::this_thread::sleep_for(1ms);
        }
        return std::any();
    });
    while (!started) std::this_thread::sleep_for(1ms);
    const auto begin = std::chrono::steady_clock::now();
    runner.reset();
    CHECK(std::chrono::steady_clock::now() - begin < 2s);
}
