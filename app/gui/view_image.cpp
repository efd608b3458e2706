#include "app/gui/view_image.h"

#include "render/gl.h"

#include <cstdint>

namespace segxai::app {

void addViewImage(unsigned int texture, const ImVec2& min, const ImVec2& max) {
    ImDrawList* list = ImGui::GetWindowDrawList();
    list->AddCallback([](const ImDrawList*, const ImDrawCmd*) { glDisable(GL_BLEND); }, nullptr);
    // The framebuffer's first row is the image's bottom: flip v.
    list->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(texture)), min, max, ImVec2(0, 1), ImVec2(1, 0));
    list->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

} // namespace segxai::app
