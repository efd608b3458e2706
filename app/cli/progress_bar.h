#pragma once
#include "engine/core/job_runner.h"

#include <atomic>
#include <string>
#include <thread>

namespace segxai::app {

// A progress bar on stderr for long command-line runs: redrawn by a small thread from the
// job's atomic progress when stderr is a terminal, silent otherwise.
class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    JobContext* context() { return &m_context; }
    void finish();

private:
    void draw(bool final);

    std::string m_label;
    JobControl m_control;
    JobContext m_context{m_control};
    bool m_terminal = false;
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

} // namespace segxai::app
