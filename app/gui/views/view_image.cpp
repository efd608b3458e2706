#include "app/gui/views/view_image.h"

#include "render/window_target.h"

#include <cmath>

namespace segxai::app {

void ViewImage::add(const render::Framebuffer& framebuffer, const ImVec2& min, const ImVec2& max) {
    m_framebuffer = framebuffer.name();
    m_width = framebuffer.width();
    m_height = framebuffer.height();
    m_min = min;
    m_max = max;
    ImDrawList* list = ImGui::GetWindowDrawList();
    list->AddCallback(&ViewImage::blit, this);
    list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

void ViewImage::blit(const ImDrawList*, const ImDrawCmd* command) {
    const auto* self = static_cast<const ViewImage*>(command->UserCallbackData);
    const ImGuiIO& io = ImGui::GetIO();
    const ImVec2 scale = io.DisplayFramebufferScale;
    const int screenHeight = int(std::lround(io.DisplaySize.y * scale.y));
    // ImGui's y runs down from the top; the window's framebuffer rows run up from the bottom,
    // as the view's do: no flip.
    const int x0 = int(std::lround(self->m_min.x * scale.x)), x1 = int(std::lround(self->m_max.x * scale.x));
    const int y0 = screenHeight - int(std::lround(self->m_max.y * scale.y));
    const int y1 = screenHeight - int(std::lround(self->m_min.y * scale.y));
    render::blitToWindow(self->m_framebuffer, self->m_width, self->m_height, x0, y0, x1, y1);
}

} // namespace segxai::app
