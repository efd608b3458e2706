#pragma once
#include <string>
#include <vector>

namespace segxai::app {

// How long the viewer's frames take, split by whether the engine was working: the measure of
// "the UI stays responsive" while a long job runs (a 512^3 CT segmenting, a class explained).
// A frame runs from handling input to the GPU having its commands; the engine's job results
// that the main thread takes over (textures of a new study, segmentation or map) fall in the
// frame that takes them, so a hitch shows as a slow frame. Read by the script command
// `frame-times`.
class FrameLog {
public:
    void record(double milliseconds, bool engineBusy);
    // "while the engine worked: 812 frames, median 4.1 ms, p99 12.0 ms, max 96.0 ms, 0 over 100 ms;
    //  idle: ..." since the last reset.
    std::string report() const;
    void reset();

private:
    std::vector<double> m_busy, m_idle;
};

} // namespace segxai::app
