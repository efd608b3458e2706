#include "app/gui/automation/frame_log.h"

#include "app/gui/automation/frame_benchmark.h"

#include <algorithm>
#include <fmt/format.h>

namespace segxai::app {
namespace {

std::string summary(const std::vector<double>& times) {
    if (times.empty()) return "no frames";
    const auto slow = std::count_if(times.begin(), times.end(), [](double t) { return t > 100.0; });
    return fmt::format("{} frames, median {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms, {} over 100 ms", times.size(),
                       FrameBenchmark::percentile(times, 50.0), FrameBenchmark::percentile(times, 99.0),
                       *std::max_element(times.begin(), times.end()), slow);
}

} // namespace

void FrameLog::record(double milliseconds, bool engineBusy) {
    (engineBusy ? m_busy : m_idle).push_back(milliseconds);
}

std::string FrameLog::report() const {
    return fmt::format("frame times while the engine worked: {}; idle: {}", summary(m_busy), summary(m_idle));
}

void FrameLog::reset() {
    m_busy.clear();
    m_idle.clear();
}

} // namespace segxai::app
