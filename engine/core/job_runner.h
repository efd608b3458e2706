#pragma once
#include <any>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
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

struct JobResult {
    uint64_t id = 0;
    std::string slot;
    uint64_t generation = 0;
    std::string title;
    JobStatus status = JobStatus::Failed;
    std::string error;    // readable message when Failed
    std::any value;       // the job's return value when Succeeded
    double seconds = 0.0; // wall time of the job
};

struct ActiveJob {
    uint64_t id = 0;
    std::string slot;
    std::string title;
    float fraction = 0.0f;
    std::string stage;
    bool running = false; // false: queued
};

// The engine's job queue. Jobs are values (a title, a slot, a function of a JobContext); they
// run on worker threads, and their results come back through one inbox that the UI drains
// once per frame. Submitting to a slot supersedes what is queued or running in that slot:
// queued jobs are dropped, a running one is asked to stop, and a result whose generation is
// older than the slot's latest is never delivered. Exceptions end at the job boundary and
// become Failed results with the exception's message.
class JobRunner {
public:
    using Work = std::function<std::any(JobContext&)>;

    // `wake` is called from a worker after a result enters the inbox (the UI passes
    // glfwPostEmptyEvent through it, since the engine does not link GLFW).
    // `yieldToUi`: workers (and the thread pools LibTorch starts from them) run at a lower
    // scheduling priority, so a computing engine never makes the window stutter; with nothing
    // else to run they get the whole machine.
    explicit JobRunner(std::function<void()> wake = {}, int workerCount = 1, bool yieldToUi = false);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    uint64_t submit(std::string slot, std::string title, Work work);
    void cancel(uint64_t id);
    void cancelAll();

    // Finished results, oldest first; stale generations are dropped here.
    std::vector<JobResult> drain();
    std::vector<ActiveJob> active() const;
    bool idle() const;
    // Idle, and every result drained: nothing more will come without a new request.
    bool quiescent() const;
    // Blocks until nothing is queued or running (tests and the command line).
    void waitIdle();
    uint64_t latestGeneration(const std::string& slot) const;

private:
    struct Job {
        uint64_t id;
        std::string slot;
        uint64_t generation;
        std::string title;
        Work work;
        std::shared_ptr<JobControl> control;
    };

    void workerLoop(std::stop_token stop);
    JobResult run(Job& job);

    std::function<void()> m_wake;
    mutable std::mutex m_mutex;
    std::condition_variable_any m_queueChanged;
    std::condition_variable m_idleChanged;
    std::deque<Job> m_queue;
    std::map<uint64_t, Job*> m_running;
    std::map<std::string, uint64_t> m_generations;
    std::vector<JobResult> m_inbox;
    uint64_t m_nextId = 1;
    std::vector<std::jthread> m_workers;
};

} // namespace segxai
