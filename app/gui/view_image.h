#pragma once
#include <imgui.h>

namespace segxai::app {

// Shows a view's framebuffer texture at [min, max] of the current window, drawn without
// blending: a view is opaque, and reading the pixels beneath for nothing costs a software
// rasteriser a third of a frame.
void addViewImage(unsigned int texture, const ImVec2& min, const ImVec2& max);

} // namespace segxai::app
