#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace segxai {

// Thrown by JobContext::throwIfStopped; the runner reports the job as cancelled.
struct JobCancelled {};

// State shared between a running job and whoever watches it: stop flag, progress, stage.
class JobControl {
public:
    void requestStop() { m_stop.store(true, std::memory_order_relaxed); }
    bool stopRequested() const { return m_stop.load(std::memory_order_relaxed); }
    float fraction() const { return m_fraction.load(std::memory_order_relaxed); }
    std::string stage() const;
    void report(float fraction, std::string_view stage);
    void report(float fraction) { m_fraction.store(fraction, std::memory_order_relaxed); }

private:
    std::atomic<bool> m_stop{false};
    std::atomic<float> m_fraction{0.0f};
    mutable std::mutex m_stageMutex;
    std::string m_stage;
};

// What a job sees of its control: progress reporting (optionally into a sub-range, so nested
// steps compose) and cooperative cancellation.
class JobContext {
public:
    explicit JobContext(JobControl& control, float begin = 0.0f, float end = 1.0f)
        : m_control(&control), m_begin(begin), m_end(end) {}

    bool stopRequested() const { return m_control->stopRequested(); }
    // Throws JobCancelled when a stop was requested; long loops call it between steps.
    void throwIfStopped() const {
        if (stopRequested()) throw JobCancelled{};
    }
    void progress(float fraction, std::string_view stage);
    void progress(float fraction);
    // A context whose 0..1 maps onto [begin, end] of this one.
    JobContext sub(float begin, float end) const;

private:
    JobControl* m_control;
    float m_begin;
    float m_end;
};

// Step `index` of `count` equal steps spanning [begin, end) of `job`: stops on a cancel, says
// `stage`, and gives the step's own context (none without a job).
std::optional<JobContext> stepContext(JobContext* job, size_t index, size_t count, std::string_view stage,
                                      float begin = 0.0f, float end = 1.0f);

// A context for synchronous callers (command line, tests): never stopped, progress ignored
// unless a callback is given.
class StandaloneJob {
public:
    JobContext context() { return JobContext(m_control); }
    JobControl& control() { return m_control; }

private:
    JobControl m_control;
};

enum class JobStatus { Succeeded, Failed, Cancelled };

// A slot of the job queue: a new job in a slot supersedes the one queued or running there
// (a newer request for the same thing). Slots are constants of the features that submit.
class JobSlot {
public:
    explicit JobSlot(std::string name) : m_name(std::move(name)) {}
    const std::string& name() const { return m_name; }
    bool operator==(const JobSlot& other) const { return m_name == other.m_name; }

private:
    std::string m_name;
};

// How a job ended (its value, when it succeeded, went to its completion).
struct JobReport {
    uint64_t id = 0;
    std::string slot;
    uint64_t generation = 0;
    std::string title;
    JobStatus status = JobStatus::Failed;
    std::string error;    // readable message when Failed
    double seconds = 0.0; // wall time of the job
};

struct ActiveJob {
    uint64_t id = 0;
    std::string slot;
    std::string title;
    float fraction = 0.0f;
    std::string stage;
    bool running = false; // false: queued
    double seconds = 0.0; // running for this long
};

// The engine's job queue. Jobs are values (a title, a slot, a function of a JobContext); they
// run on worker threads, and their results come back through one inbox that the UI drains
// once per frame: drain() hands each result, with its real type, to the completion given
// with the job, on the draining thread. Submitting to a slot supersedes what is queued or
// running in that slot: queued jobs are dropped, a running one is asked to stop, and a result
// whose generation is older than the slot's latest is never delivered. Exceptions end at the
// job boundary and become Failed reports with the exception's message.
class JobRunner {
public:
    struct Options {
        // Called from a worker after a result enters the inbox (the UI passes
        // glfwPostEmptyEvent through it, since the engine does not link GLFW).
        std::function<void()> wake;
        int workers = 1;
        // Workers (and the thread pools LibTorch starts from them) run at a lower scheduling
        // priority, so a computing engine never makes the window stutter; with nothing else
        // to run they get the whole machine.
        bool yieldToUi = false;
        // Run on each worker thread before its first job: per-thread settings such as
        // LibTorch's intra-op thread count, which belongs to the thread that sets it.
        std::function<void()> prepareWorker;
    };

    JobRunner() : JobRunner(Options{}) {}
    explicit JobRunner(Options options);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Runs `work(JobContext&)` on a worker; drain() then calls `done(result)` (or `done()` for
    // work that returns nothing) when it succeeded, `otherwise(report)` when it failed or was
    // cancelled (the runner's onFailure when not given).
    template <typename Work, typename Done>
    uint64_t submit(const JobSlot& slot, std::string title, Work work, Done done,
                    std::function<void(const JobReport&)> otherwise = {});
    void cancel(uint64_t id);
    void cancelAll();
    // What drain() does with reports of jobs that failed or were cancelled and gave no
    // handler of their own (the UI shows them; by default they are only returned).
    void setFailureHandler(std::function<void(const JobReport&)> handler) { m_onFailure = std::move(handler); }

    // Delivers finished jobs, oldest first (stale generations are dropped), and returns
    // their reports.
    std::vector<JobReport> drain();
    std::vector<ActiveJob> active() const;
    // A job of this slot is queued or running.
    bool busy(const JobSlot& slot) const;
    bool idle() const;
    // Idle, and every result drained: nothing more will come without a new request.
    bool quiescent() const;
    // Blocks until nothing is queued or running (tests and the command line).
    void waitIdle();
    uint64_t latestGeneration(const JobSlot& slot) const;

private:
    using Task = std::function<void(JobContext&)>; // keeps its result for its completion
    using Completion = std::function<void()>;
    struct Job {
        uint64_t id;
        std::string slot;
        uint64_t generation;
        std::string title;
        Task task;
        Completion completion;
        std::function<void(const JobReport&)> otherwise;
        std::shared_ptr<JobControl> control;
        std::chrono::steady_clock::time_point started{};
    };
    struct Finished {
        JobReport report;
        Completion completion;
        std::function<void(const JobReport&)> otherwise;
    };

    uint64_t submitTask(const JobSlot& slot, std::string title, Task task, Completion completion,
                        std::function<void(const JobReport&)> otherwise);
    void workerLoop(std::stop_token stop);
    JobReport run(Job& job);

    Options m_options;
    std::function<void(const JobReport&)> m_onFailure; // UI thread only, like drain()
    mutable std::mutex m_mutex;
    std::condition_variable_any m_queueChanged;
    std::condition_variable m_idleChanged;
    std::deque<Job> m_queue;
    std::map<uint64_t, Job*> m_running;
    std::map<std::string, uint64_t> m_generations;
    std::vector<Finished> m_inbox;
    uint64_t m_nextId = 1;
    std::vector<std::jthread> m_workers;
};

template <typename Work, typename Done>
uint64_t JobRunner::submit(const JobSlot& slot, std::string title, Work work, Done done,
                           std::function<void(const JobReport&)> otherwise) {
    using Result = std::invoke_result_t<Work&, JobContext&>;
    if constexpr (std::is_void_v<Result>) {
        return submitTask(slot, std::move(title), std::move(work), std::move(done), std::move(otherwise));
    } else {
        // The worker writes the result here; the completion, on the draining thread, takes it.
        auto result = std::make_shared<std::optional<Result>>();
        Task task = [work = std::move(work), result](JobContext& context) mutable { result->emplace(work(context)); };
        Completion completion = [done = std::move(done), result]() mutable { done(std::move(**result)); };
        return submitTask(slot, std::move(title), std::move(task), std::move(completion), std::move(otherwise));
    }
}

} // namespace segxai
