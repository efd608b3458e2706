#pragma once
#include "app/gui/state/viewer_state.h"
#include "engine/core/geometry.h"

#include <string>
#include <vector>

namespace segxai::app {

// `segxai --benchmark-frames N --layout L`: once the study (and any explanation) has settled,
// N frames are drawn as a user would make them: in slice layouts the crosshair moves one
// voxel along every axis each frame (so every slice view draws anew), in the volume layout
// the camera turns 2 degrees a frame (so the 3D view draws as while dragging). Frame times
// run from the start of a frame to the GPU having finished it.
class FrameBenchmark {
public:
    FrameBenchmark(int frames, std::string layout, bool busy);

    // Sets the layout to measure; throws segxai::Error for an unknown layout name.
    void arrange(ViewerState& state, int panelCount) const;
    // Changes the state as the next frame's user input would.
    void advance(ViewerState& state, const Geometry& geometry);
    void record(double milliseconds) { m_times.push_back(milliseconds); }
    bool finished() const { return int(m_times.size()) >= m_frames; }
    bool busy() const { return m_busy; }
    // "layout tri, 1600x900, 300 frames: median 9.1 ms, p99 14.0 ms, mean 9.4 ms, min 8.0 ms, max 21.0 ms"
    std::string report(int width, int height, bool explaining) const;

    static double percentile(std::vector<double> values, double p);

private:
    int m_frames;
    std::string m_layout;
    bool m_busy;
    std::vector<double> m_times;
    int m_step = 0;
};

} // namespace segxai::app
