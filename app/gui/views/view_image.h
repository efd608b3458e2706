#pragma once
#include "render/gl_objects.h"

#include <imgui.h>

namespace segxai::app {

// Puts a view's framebuffer on screen at [min, max] of the current window, in ImGui's draw
// order (menus and popups drawn later still cover it). It is copied with a framebuffer blit,
// not drawn as a blended, textured quad: a view is opaque, and on a software rasteriser the
// quad cost a fifth of a frame. The blit reads `framebuffer` when ImGui renders, so the
// object (owned by a view widget) must outlive the frame.
class ViewImage {
public:
    void add(const render::Framebuffer& framebuffer, const ImVec2& min, const ImVec2& max);

private:
    static void blit(const ImDrawList* list, const ImDrawCmd* command);
    GLuint m_framebuffer = 0;
    int m_width = 0, m_height = 0;
    ImVec2 m_min, m_max;
};

} // namespace segxai::app
