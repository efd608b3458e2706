#include "app/cli/progress_bar.h"

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace segxai::app {

ProgressBar::ProgressBar(std::string label) : m_label(std::move(label)), m_terminal(isatty(2) != 0) {
    if (!m_terminal) return;
    m_thread = std::thread([this] {
        while (!m_done) {
            draw(false);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    });
}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::finish() {
    if (m_done.exchange(true)) return;
    if (m_thread.joinable()) m_thread.join();
    if (m_terminal) draw(true);
}

void ProgressBar::draw(bool final) {
    const float f = final ? 1.0f : m_control.fraction();
    const int width = 30, filled = int(f * float(width) + 0.5f);
    std::string bar(size_t(filled), '#');
    bar.resize(size_t(width), '-');
    std::fprintf(stderr, "\r%s [%s] %3.0f%% %-40.40s%s", m_label.c_str(), bar.c_str(), f * 100.0f,
                 final ? "" : m_control.stage().c_str(), final ? "\n" : "");
    std::fflush(stderr);
}

} // namespace segxai::app
