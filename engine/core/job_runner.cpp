#include "engine/core/job_runner.h"

#include "engine/core/memory_budget.h"

#include <algorithm>
#include <chrono>
#include <exception>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace segxai {

std::string JobControl::stage() const {
    std::lock_guard lock(m_stageMutex);
    return m_stage;
}

void JobControl::report(float fraction, std::string_view stage) {
    m_fraction.store(fraction, std::memory_order_relaxed);
    std::lock_guard lock(m_stageMutex);
    m_stage.assign(stage);
}

void JobContext::progress(float fraction, std::string_view stage) {
    m_control->report(m_begin + (m_end - m_begin) * std::clamp(fraction, 0.0f, 1.0f), stage);
}

void JobContext::progress(float fraction) {
    m_control->report(m_begin + (m_end - m_begin) * std::clamp(fraction, 0.0f, 1.0f));
}

JobContext JobContext::sub(float begin, float end) const {
    const float span = m_end - m_begin;
    return JobContext(*m_control, m_begin + span * begin, m_begin + span * end);
}

std::optional<JobContext> stepContext(JobContext* job, size_t index, size_t count, std::string_view stage, float begin,
                                      float end) {
    if (!job) return std::nullopt;
    job->throwIfStopped();
    const float span = (end - begin) / float(std::max<size_t>(1, count));
    job->progress(begin + span * float(index), stage);
    return job->sub(begin + span * float(index), begin + span * float(index + 1));
}

JobRunner::JobRunner(Options options) : m_options(std::move(options)) {
    for (int n = 0; n < std::max(1, m_options.workers); ++n) {
        m_workers.emplace_back([this](std::stop_token stop) {
#ifdef __linux__
            // Nice is per thread on Linux, and threads started from this one inherit it.
            if (m_options.yieldToUi) setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), 10);
#endif
            if (m_options.prepareWorker) m_options.prepareWorker();
            workerLoop(stop);
        });
    }
}

JobRunner::~JobRunner() {
    {
        std::lock_guard lock(m_mutex);
        m_queue.clear();
        for (auto& [id, job] : m_running)
            job->control->requestStop();
    }
    for (auto& worker : m_workers)
        worker.request_stop();
    m_queueChanged.notify_all();
    m_workers.clear(); // joins
}

uint64_t JobRunner::submitTask(const JobSlot& slot, std::string title, Task task, Completion completion,
                               std::function<void(const JobReport&)> otherwise) {
    uint64_t id;
    {
        std::lock_guard lock(m_mutex);
        id = m_nextId++;
        const uint64_t generation = ++m_generations[slot.name()];
        std::erase_if(m_queue, [&](const Job& job) { return job.slot == slot.name(); });
        for (auto& [runningId, job] : m_running) {
            if (job->slot == slot.name()) job->control->requestStop();
        }
        m_queue.push_back(Job{id, slot.name(), generation, std::move(title), std::move(task), std::move(completion),
                              std::move(otherwise), std::make_shared<JobControl>()});
    }
    m_queueChanged.notify_one();
    return id;
}

void JobRunner::cancel(uint64_t id) {
    std::lock_guard lock(m_mutex);
    std::erase_if(m_queue, [&](const Job& job) { return job.id == id; });
    if (auto it = m_running.find(id); it != m_running.end()) it->second->control->requestStop();
    m_idleChanged.notify_all();
}

void JobRunner::cancelAll() {
    std::lock_guard lock(m_mutex);
    m_queue.clear();
    for (auto& [id, job] : m_running)
        job->control->requestStop();
    m_idleChanged.notify_all();
}

std::vector<JobReport> JobRunner::drain() {
    std::vector<Finished> finished;
    {
        std::lock_guard lock(m_mutex);
        finished.swap(m_inbox);
        std::erase_if(finished, [&](const Finished& f) { return f.report.generation < m_generations[f.report.slot]; });
    }
    // Outside the lock: completions submit jobs of their own.
    std::vector<JobReport> reports;
    for (Finished& f : finished) {
        if (f.report.status == JobStatus::Succeeded) {
            if (f.completion) f.completion();
        } else if (f.otherwise) {
            f.otherwise(f.report);
        } else if (m_onFailure) {
            m_onFailure(f.report);
        }
        reports.push_back(std::move(f.report));
    }
    return reports;
}

std::vector<ActiveJob> JobRunner::active() const {
    std::lock_guard lock(m_mutex);
    std::vector<ActiveJob> jobs;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, job] : m_running) {
        jobs.push_back({id, job->slot, job->title, job->control->fraction(), job->control->stage(), true,
                        std::chrono::duration<double>(now - job->started).count()});
    }
    for (const Job& job : m_queue)
        jobs.push_back({job.id, job.slot, job.title, 0.0f, {}, false});
    return jobs;
}

bool JobRunner::busy(const JobSlot& slot) const {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, job] : m_running) {
        if (job->slot == slot.name()) return true;
    }
    return std::any_of(m_queue.begin(), m_queue.end(), [&](const Job& job) { return job.slot == slot.name(); });
}

bool JobRunner::idle() const {
    std::lock_guard lock(m_mutex);
    return m_queue.empty() && m_running.empty();
}

bool JobRunner::quiescent() const {
    std::lock_guard lock(m_mutex);
    return m_queue.empty() && m_running.empty() && m_inbox.empty();
}

void JobRunner::waitIdle() {
    std::unique_lock lock(m_mutex);
    m_idleChanged.wait(lock, [&] { return m_queue.empty() && m_running.empty(); });
}

uint64_t JobRunner::latestGeneration(const JobSlot& slot) const {
    std::lock_guard lock(m_mutex);
    auto it = m_generations.find(slot.name());
    return it == m_generations.end() ? 0 : it->second;
}

void JobRunner::workerLoop(std::stop_token stop) {
    while (true) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            if (!m_queueChanged.wait(lock, stop, [&] { return !m_queue.empty(); })) return;
            job = std::move(m_queue.front());
            m_queue.pop_front();
            job.started = std::chrono::steady_clock::now();
            m_running[job.id] = &job;
        }
        JobReport report = run(job);
        {
            std::lock_guard lock(m_mutex);
            m_running.erase(job.id);
            m_inbox.push_back(Finished{std::move(report), std::move(job.completion), std::move(job.otherwise)});
        }
        m_idleChanged.notify_all();
        if (m_options.wake) m_options.wake();
    }
}

JobReport JobRunner::run(Job& job) {
    JobReport report;
    report.id = job.id;
    report.slot = job.slot;
    report.generation = job.generation;
    report.title = job.title;
    const auto start = std::chrono::steady_clock::now();
    JobContext context(*job.control);
    try {
        context.progress(0.0f, "starting");
        job.task(context);
        report.status = job.control->stopRequested() ? JobStatus::Cancelled : JobStatus::Succeeded;
    } catch (const JobCancelled&) {
        report.status = JobStatus::Cancelled;
    } catch (const std::exception& e) {
        // c10::Error and itk::ExceptionObject both derive from std::exception.
        report.status = JobStatus::Failed;
        report.error = e.what();
    } catch (...) {
        report.status = JobStatus::Failed;
        report.error = "unknown error";
    }
    job.task = nullptr;   // what the work captured (studies, models) goes now, on the worker
    releaseFreedMemory(); // the freed buffers the allocator kept for reuse go back to the system
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

} // namespace segxai
