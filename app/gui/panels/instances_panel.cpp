#include "app/gui/panels/instances_panel.h"

#include "app/gui/panels/explain_panel.h"
#include "engine/explain/target.h"

#include <algorithm>
#include <fmt/format.h>
#include <imgui.h>
#include <numeric>

namespace segxai::app {

void stepInstances(Document& document, int step) {
    Workspace& workspace = document.workspace;
    const auto& set = workspace.instances();
    if (!set || set->instances.empty()) return;
    const int count = int(set->instances.size());
    const int current = workspace.selectedListIndex();
    workspace.selectInstance(current < 0 ? (step > 0 ? 0 : count - 1) : (current + step + count) % count);
}

namespace {

// One structure's row of the table (list index n).
void drawRow(Workspace& workspace, int n, int selected, const std::vector<InstanceUncertainty>* perStructure) {
    const Instance& x = workspace.instances()->instances[size_t(n)];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    const std::string label = fmt::format("{}##instance{}", n + 1, n);
    if (ImGui::Selectable(label.c_str(), n == selected, ImGuiSelectableFlags_SpanAllColumns))
        workspace.selectInstance(n);
    if (n == selected && ImGui::IsWindowAppearing()) ImGui::SetScrollHereY();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(workspace.segmentation()->classNames[size_t(x.classIndex)].c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%.0f", x.volumeMm3);
    ImGui::TableNextColumn();
    ImGui::Text("%.2f", x.meanProbability);
    if (perStructure) {
        const InstanceUncertainty& u = (*perStructure)[size_t(n)];
        for (const double v : {u.meanEntropy, u.meanMutualInformation, u.memberShare, u.volumeCv}) {
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", v);
        }
    }
    ImGui::TableNextColumn();
    const glm::dvec3 w = workspace.study()->study->geometry.voxelToWorld(x.centroid);
    ImGui::Text("%.0f, %.0f, %.0f", w.x, w.y, w.z);
}

} // namespace

void InstancesPanel::draw(Document& document) {
    Workspace& workspace = document.workspace;
    const auto& set = workspace.instances();
    if (!set) {
        ImGui::TextWrapped("Segment a study to list its structures.");
        return;
    }
    ImGui::Text("%zu structures (26-connected)", set->instances.size());
    const int selected = workspace.selectedListIndex();
    ImGui::BeginDisabled(selected < 0);
    if (ImGui::Button("Explain this instance", ImVec2(-FLT_MIN, 0))) {
        const Index3 v = set->instances[size_t(selected)].representative;
        workspace.viewer().crosshair = v;
        workspace.viewer().target.kind = TargetSpec::Kind::Instance;
        document.comparison.explainAll(ExplainPanel::currentTarget(workspace));
    }
    ImGui::EndDisabled();
    ImGui::TextDisabled("click a row or a structure in a view; N / P step through");

    if (m_sorted != set.get() || m_order.size() != set->instances.size()) {
        m_order.resize(set->instances.size());
        std::iota(m_order.begin(), m_order.end(), 0);
        m_sorted = set.get();
    }
    // With the ensemble's uncertainty run on this segmentation: its columns per structure.
    const auto uncertainty = document.uncertainty.result();
    const std::vector<InstanceUncertainty>* perStructure =
        uncertainty && uncertainty->perStructure.size() == set->instances.size() ? &uncertainty->perStructure : nullptr;
    if (perStructure) {
        ImGui::TextDisabled("H, MI: mean entropy and mutual information (nats); found: share of the %zu members; "
                            "CV: of the members' volumes",
                            uncertainty->run.maps.memberNames.size());
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerV;
    if (!ImGui::BeginTable("instances", perStructure ? 9 : 5, flags, ImVec2(0, ImGui::GetContentRegionAvail().y)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_DefaultSort);
    ImGui::TableSetupColumn("class");
    ImGui::TableSetupColumn("mm3");
    ImGui::TableSetupColumn("mean p");
    if (perStructure) {
        for (const char* name : {"H", "MI", "found", "CV"})
            ImGui::TableSetupColumn(name, ImGuiTableColumnFlags_PreferSortDescending);
    }
    ImGui::TableSetupColumn("centroid (mm)", ImGuiTableColumnFlags_NoSort);
    ImGui::TableHeadersRow();
    if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsDirty) {
        if (specs->SpecsCount > 0) {
            m_sortColumn = specs->Specs[0].ColumnIndex;
            m_ascending = specs->Specs[0].SortDirection == ImGuiSortDirection_Ascending;
        }
        auto key = [&](int n) -> double {
            const Instance& x = set->instances[size_t(n)];
            switch (m_sortColumn) {
            case 1:
                return x.classIndex;
            case 2:
                return x.volumeMm3;
            case 3:
                return x.meanProbability;
            case 4:
            case 5:
            case 6:
            case 7: {
                if (!perStructure) return n;
                const InstanceUncertainty& u = (*perStructure)[size_t(n)];
                const double values[] = {u.meanEntropy, u.meanMutualInformation, u.memberShare, u.volumeCv};
                return values[m_sortColumn - 4];
            }
            default:
                return n;
            }
        };
        std::stable_sort(m_order.begin(), m_order.end(),
                         [&](int a, int b) { return m_ascending ? key(a) < key(b) : key(a) > key(b); });
        specs->SpecsDirty = false;
    }
    // Only the rows in sight are drawn: a poor model's CT can have millions of structures.
    ImGuiListClipper clipper;
    clipper.Begin(int(m_order.size()));
    if (selected >= 0 && ImGui::IsWindowAppearing()) {
        const int row = int(std::find(m_order.begin(), m_order.end(), selected) - m_order.begin());
        clipper.ForceDisplayRangeByIndices(row, row + 1);
    }
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row)
            drawRow(workspace, m_order[size_t(row)], selected, perStructure);
    }
    ImGui::EndTable();
}

} // namespace segxai::app
