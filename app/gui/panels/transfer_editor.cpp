#include "app/gui/panels/transfer_editor.h"

#include <algorithm>
#include <cmath>
#include <imgui.h>

namespace segxai::app {

bool drawTransferEditor(render::TransferFunction& f) {
    static int dragging = -1;
    static int editing = -1;
    bool changed = false;
    const float width = ImGui::GetContentRegionAvail().x, height = 90.0f;
    // Opacities are small per step; the curve shows them on a square-root scale.
    const float maxOpacity = 0.6f;
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("transfer", ImVec2(width, height),
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->AddRectFilled(origin, ImVec2(origin.x + width, origin.y + height), IM_COL32(25, 25, 30, 255));
    const auto table = f.table();
    for (int n = 0; n < 255; ++n) {
        const float x0 = origin.x + width * float(n) / 255.0f, x1 = origin.x + width * float(n + 1) / 255.0f;
        const auto& c = table[size_t(n)];
        const float y = origin.y + height * (1.0f - std::sqrt(float(c.a) / 255.0f / maxOpacity));
        draw->AddRectFilled(ImVec2(x0, std::max(origin.y, y)), ImVec2(x1, origin.y + height),
                            IM_COL32(c.r, c.g, c.b, 200));
    }
    auto pointPosition = [&](const render::TransferFunction::Point& p) {
        return ImVec2(origin.x + width * p.value,
                      origin.y + height * (1.0f - std::sqrt(std::min(p.opacity, maxOpacity) / maxOpacity)));
    };
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    int hovered = -1;
    for (int n = 0; n < int(f.points.size()); ++n) {
        const ImVec2 p = pointPosition(f.points[size_t(n)]);
        const float dx = mouse.x - p.x, dy = mouse.y - p.y;
        if (dx * dx + dy * dy < 49.0f) hovered = n;
        const glm::vec3& c = f.points[size_t(n)].color;
        draw->AddCircleFilled(p, 5.0f, IM_COL32(int(c.r * 255), int(c.g * 255), int(c.b * 255), 255));
        draw->AddCircle(p, 5.0f, n == hovered ? IM_COL32(255, 255, 0, 255) : IM_COL32(220, 220, 220, 255));
    }
    if (ImGui::IsItemActivated() && hovered >= 0) dragging = hovered;
    if (dragging >= 0 && ImGui::IsMouseDown(ImGuiMouseButton_Left) && dragging < int(f.points.size())) {
        auto& p = f.points[size_t(dragging)];
        p.value = std::clamp((mouse.x - origin.x) / width, 0.0f, 1.0f);
        const float y = std::clamp(1.0f - (mouse.y - origin.y) / height, 0.0f, 1.0f);
        p.opacity = y * y * maxOpacity;
        changed = true;
    }
    if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        if (dragging >= 0) f.sortPoints();
        dragging = -1;
    }
    if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left) && hovered < 0) {
        render::TransferFunction::Point p;
        p.value = std::clamp((mouse.x - origin.x) / width, 0.0f, 1.0f);
        const float y = std::clamp(1.0f - (mouse.y - origin.y) / height, 0.0f, 1.0f);
        p.opacity = y * y * maxOpacity;
        const auto& c = table[size_t(std::lround(p.value * 255.0f))];
        p.color = glm::vec3(c.r, c.g, c.b) / 255.0f;
        if (p.color == glm::vec3(0.0f)) p.color = glm::vec3(1.0f);
        f.points.push_back(p);
        f.sortPoints();
        changed = true;
    }
    if (ImGui::IsItemHovered() && ImGui::IsMouseClicked(ImGuiMouseButton_Right) && hovered >= 0) {
        editing = hovered;
        ImGui::OpenPopup("transferPoint");
    }
    if (ImGui::BeginPopup("transferPoint")) {
        if (editing >= 0 && editing < int(f.points.size())) {
            auto& p = f.points[size_t(editing)];
            changed |= ImGui::ColorEdit3("colour", &p.color.x);
            if (f.points.size() > 2 && ImGui::Button("Remove point")) {
                f.points.erase(f.points.begin() + editing);
                editing = -1;
                changed = true;
                ImGui::CloseCurrentPopup();
            }
        }
        ImGui::EndPopup();
    }
    return changed;
}

} // namespace segxai::app
