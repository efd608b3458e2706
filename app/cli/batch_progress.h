#pragma once
#include "engine/batch/batch_runner.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace segxai::app {

// `segxai batch`'s progress on stderr. On a terminal: a bar redrawn twice a second with the
// studies done of the total, the rate, the ETA and the current study's stage, and a line per
// finished or failed study above it. Otherwise (a scheduler's log file): a plain line per
// study, no control characters.
class BatchProgress {
public:
    explicit BatchProgress(const JobControl& control);
    ~BatchProgress();
    void onEvent(const BatchStudyEvent& event); // from runBatch's thread
    void finish();

    // "1h05m", "4m10s", "12s", "0.4s".
    static std::string duration(double seconds);

private:
    void draw();
    std::string rateAndEta() const; // with m_mutex held

    const JobControl& m_control;
    const bool m_terminal;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_start;
    size_t m_count = 0, m_finished = 0, m_computed = 0, m_failed = 0, m_skipped = 0;
    std::string m_current;
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

} // namespace segxai::app
