#include "app/gui/automation/frame_benchmark.h"

#include "engine/core/error.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace segxai::app {

FrameBenchmark::FrameBenchmark(int frames, std::string layout, bool busy)
    : m_frames(std::max(1, frames)), m_layout(std::move(layout)), m_busy(busy) {}

void FrameBenchmark::arrange(ViewerState& state, int panelCount) const {
    state.maximised = -1;
    if (m_layout == "tri") {
        state.layout = Layout::Tri;
        return;
    }
    const char* views[] = {"axial", "coronal", "sagittal", "volume"};
    for (int v = 0; v <= kVolumeView; ++v) {
        if (m_layout == views[v]) {
            state.layout = Layout::Compare;
            state.compareView = v;
            return;
        }
    }
    if (m_layout == "compare") {
        state.layout = Layout::Compare;
        state.compareView = 0;
        if (panelCount < 2) throw Error("--layout compare needs several panels: --explain M1,M2,...");
        return;
    }
    throw Error("--layout: tri, compare, axial, coronal, sagittal or volume, not " + m_layout);
}

void FrameBenchmark::advance(ViewerState& state, const Geometry& geometry) {
    ++m_step;
    if (m_layout == "volume") {
        state.camera.azimuth = std::fmod(state.camera.azimuth + 2.0, 360.0);
        return;
    }
    // Back and forth over 20 voxels around the centre, on every axis at once.
    const int offset = std::abs((m_step + 10) % 40 - 20) - 10;
    for (int a = 0; a < 3; ++a) {
        state.crosshair[size_t(a)] =
            std::clamp<int64_t>(geometry.dims[size_t(a)] / 2 + offset, 0, geometry.dims[size_t(a)] - 1);
    }
}

double FrameBenchmark::percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p % of the values at or below it.
    const size_t rank = size_t(std::ceil(p / 100.0 * double(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::string FrameBenchmark::report(int width, int height, bool explaining) const {
    const double mean =
        m_times.empty() ? 0.0 : std::accumulate(m_times.begin(), m_times.end(), 0.0) / double(m_times.size());
    const double worst = m_times.empty() ? 0.0 : *std::max_element(m_times.begin(), m_times.end());
    const double best = m_times.empty() ? 0.0 : *std::min_element(m_times.begin(), m_times.end());
    return fmt::format(
        "layout {}, {}x{}, {} frames{}: median {:.1f} ms, p99 {:.1f} ms, mean {:.1f} ms, min {:.1f} ms, max {:.1f} ms",
        m_layout, width, height, m_times.size(), explaining ? " while explaining" : "", percentile(m_times, 50.0),
        percentile(m_times, 99.0), mean, best, worst);
}

} // namespace segxai::app
