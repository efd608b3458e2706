#include "app/cli/batch_progress.h"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <unistd.h>

namespace segxai::app {

BatchProgress::BatchProgress(const JobControl& control)
    : m_control(control), m_terminal(isatty(2) != 0), m_start(std::chrono::steady_clock::now()) {
    if (!m_terminal) return;
    m_thread = std::thread([this] {
        while (!m_done) {
            draw();
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    });
}

BatchProgress::~BatchProgress() {
    finish();
}

void BatchProgress::finish() {
    if (m_done.exchange(true)) return;
    if (m_thread.joinable()) m_thread.join();
    if (m_terminal) {
        draw();
        std::fprintf(stderr, "\n");
    }
}

std::string BatchProgress::duration(double seconds) {
    if (seconds < 9.95) return fmt::format("{:.1f}s", std::max(0.0, seconds));
    const long s = long(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

std::string BatchProgress::rateAndEta() const {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    if (m_computed == 0 || elapsed <= 0.0) return "rate -, ETA -";
    const double perHour = double(m_computed) * 3600.0 / elapsed;
    const double remaining = double(m_count - m_finished) * elapsed / double(m_computed);
    return fmt::format("{:.1f} studies/h, ETA {}", perHour, duration(remaining));
}

void BatchProgress::onEvent(const BatchStudyEvent& e) {
    std::lock_guard lock(m_mutex);
    m_count = e.count;
    std::string line;
    switch (e.kind) {
    case BatchStudyEvent::Kind::Started:
        if (m_computed == 0 && m_failed == 0)
            m_start = std::chrono::steady_clock::now(); // the rate counts computed studies only
        m_current = e.id;
        if (!m_terminal) line = fmt::format("[{}/{}] {}: started", e.position + 1, e.count, e.id);
        break;
    case BatchStudyEvent::Kind::Skipped:
        ++m_skipped;
        ++m_finished;
        line = fmt::format("[{}/{}] {}: already done with this configuration, skipped", e.position + 1, e.count, e.id);
        break;
    case BatchStudyEvent::Kind::Done:
        ++m_computed;
        ++m_finished;
        line = fmt::format("[{}/{}] {}: done in {} ({}, {} MiB resident)", e.position + 1, e.count, e.id,
                           duration(e.seconds), rateAndEta(), e.residentBytes >> 20);
        break;
    case BatchStudyEvent::Kind::Failed:
        ++m_computed;
        ++m_failed;
        ++m_finished;
        line = fmt::format("[{}/{}] {}: FAILED: {}", e.position + 1, e.count, e.id, e.error);
        break;
    }
    if (line.empty()) return;
    if (m_terminal) {
        std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
    } else {
        std::fprintf(stderr, "segxai batch: %s\n", line.c_str());
    }
    std::fflush(stderr);
}

void BatchProgress::draw() {
    std::lock_guard lock(m_mutex);
    if (m_count == 0) return;
    const float f = float(m_finished) / float(m_count);
    const int width = 24, filled = int(f * float(width) + 0.5f);
    std::string bar(size_t(filled), '#');
    bar.resize(size_t(width), '-');
    std::string current;
    if (!m_current.empty() && m_finished < m_count) {
        current = fmt::format(" | {}: {} {:.0f}%", m_current, m_control.stage(), 100.0f * m_control.fraction());
    }
    std::string failed = m_failed ? fmt::format(", {} failed", m_failed) : std::string();
    std::fprintf(stderr, "\r\033[Kbatch [%s] %zu/%zu studies%s | %s%s", bar.c_str(), m_finished, m_count,
                 failed.c_str(), rateAndEta().c_str(), current.substr(0, 60).c_str());
    std::fflush(stderr);
}

} // namespace segxai::app
