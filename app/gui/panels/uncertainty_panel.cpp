#include "app/gui/panels/uncertainty_panel.h"

#include "app/gui/panels/explain_panel.h"
#include "app/gui/panels/widgets.h"
#include "app/gui/state/loaded_model.h"
#include "engine/core/error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <imgui.h>
#include <numeric>

namespace segxai::app {
namespace {

bool modelFile(const std::filesystem::path& p) {
    return isModelPath(p.string());
}

std::string fileName(const std::string& path) {
    return std::filesystem::path(path).filename().string();
}

// "0.012 against 0.154 (p = 0.03)": the true and false positives' medians and their rank test.
std::string truthLine(const nlohmann::json& j) {
    auto median = [](const nlohmann::json& group) {
        return group["median"].is_null() ? std::string("-") : fmt::format("{:.3f}", group["median"].get<double>());
    };
    const size_t tp = j["tp"]["structures"].get<size_t>(), fp = j["fp"]["structures"].get<size_t>();
    if (fp == 0)
        return fmt::format("median {} over {} true positives; no false positive to compare", median(j["tp"]), tp);
    if (tp == 0) return fmt::format("median {} over {} false positives; no true positive", median(j["fp"]), fp);
    std::string line = fmt::format("TP {} ({}) vs FP {} ({})", median(j["tp"]), tp, median(j["fp"]), fp);
    if (!j["mann_whitney"].is_null())
        line += fmt::format(", Mann-Whitney p = {:.3g}", j["mann_whitney"]["p"].get<double>());
    return line;
}

// A list of model paths with a remove button each, and a button that adds more.
void drawModelList(std::vector<std::string>& paths, const char* id, FileDialog& files) {
    ImGui::PushID(id);
    for (size_t n = 0; n < paths.size(); ++n) {
        ImGui::PushID(int(n));
        if (ImGui::SmallButton("x")) {
            paths.erase(paths.begin() + std::ptrdiff_t(n));
            ImGui::PopID();
            break;
        }
        ImGui::SameLine();
        ImGui::TextUnformatted(fileName(paths[n]).c_str());
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", paths[n].c_str());
        ImGui::PopID();
    }
    if (ImGui::SmallButton("Add a model...")) {
        files.open(
            "Another model (TorchScript, MONAI bundle or nnU-Net folder)", "model", FileDialog::Mode::Open,
            [&paths](const std::vector<std::string>& chosen) {
                paths.insert(paths.end(), chosen.begin(), chosen.end());
            },
            modelFile, {}, true);
    }
    ImGui::PopID();
}

} // namespace

void UncertaintyPanel::draw(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    if (!workspace.segmentation()) {
        ImGui::TextWrapped("Segment a study first. The open model's nnU-Net folds, other models, test-time flips "
                           "and MC dropout then make the ensemble whose uncertainty is shown here.");
        return;
    }
    if (ImGui::CollapsingHeader("Ensemble uncertainty", ImGuiTreeNodeFlags_DefaultOpen)) {
        drawSettings(document, files);
        if (const auto result = document.uncertainty.result()) {
            drawMaps(document, *result, files);
            drawStructures(document, *result);
            drawStability(document, *result);
        }
    }
    if (ImGui::CollapsingHeader("Compare model versions", ImGuiTreeNodeFlags_DefaultOpen)) {
        drawModelComparison(document, files);
    }
    if (!m_message.empty()) ImGui::TextColored(ImVec4(1, 0.55f, 0.45f, 1), "%s", m_message.c_str());
}

void UncertaintyPanel::drawSettings(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    const Model& model = *workspace.model()->model;
    const NnunetSelection* selection = model.nnunetSelection();
    const size_t folds = selection ? std::max<size_t>(1, selection->availableFolds.size()) : 1;
    ImGui::TextWrapped("Members: %s%s", fileName(model.path()).c_str(),
                       folds > 1 ? fmt::format(" ({} folds, a member each)", folds).c_str() : "");
    if (!model.card().members.empty()) {
        ImGui::TextWrapped("and the %zu members its card lists", model.card().members.size());
    }
    drawModelList(document.uncertainty.extraMembers, "members", files);
    ImGui::Checkbox("Test-time flips along", &m_settings.flips);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(60.0f);
    char axes[8];
    std::snprintf(axes, sizeof axes, "%s", m_settings.flipAxes.c_str());
    if (ImGui::InputText("axes##flipAxes", axes, sizeof axes)) m_settings.flipAxes = axes;
    ImGui::SetNextItemWidth(110.0f);
    inputCount("intensity passes", m_settings.intensityPasses, 0, 64);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("Each member once more per pass on its input with seeded gain and gamma in [0.9, 1.1]\n"
                          "and noise of 0.02 of each channel's range (nothing to map back: no voxel moves)");
    }
    ImGui::SetNextItemWidth(110.0f);
    inputCount("rotation and shift passes", m_settings.spatialPasses, 0, 64);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("Each member once more per pass on its input rotated by up to %.0f degrees about each axis\n"
                          "and shifted by up to %d whole voxels (seeded), its prediction moved back by the inverse",
                          m_settings.maxRotationDegrees, m_settings.maxShiftVoxels);
    }
    ImGui::SetNextItemWidth(110.0f);
    inputCount("MC dropout passes", m_settings.mcDropoutPasses, 0, 64);
    if (m_settings.mcDropoutPasses > 0) {
        int seed = int(m_settings.mcDropoutSeed);
        ImGui::SetNextItemWidth(110.0f);
        inputCount("seed", seed, 0, 1 << 30);
        m_settings.mcDropoutSeed = uint64_t(seed);
    }
    const Panel& panelA = document.comparison.panels().front();
    const Method method = panelA.methods.empty() ? Method::SegGradCam : panelA.methods.front();
    ImGui::Checkbox(fmt::format("Explain the target with every member ({})", methodTitle(method)).c_str(),
                    &m_settings.stability);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("The Explain tab's target (the picked structure, a class...), explained by each member\n"
                          "with panel A's first method: is the explanation a property of the task or of one model?");
    }
    size_t flips = 1;
    try {
        flips = m_settings.flips ? flipsOf(m_settings.flipAxes).size() : 1;
    } catch (const Error&) {
        flips = 1; // said when Run is pressed
    }
    const size_t predictions = (folds + model.card().members.size() + document.uncertainty.extraMembers.size()) *
                               (flips + size_t(m_settings.intensityPasses) + size_t(m_settings.spatialPasses)) *
                               size_t(std::max(1, m_settings.mcDropoutPasses));
    ImGui::BeginDisabled(document.uncertainty.running());
    if (ImGui::Button(fmt::format("Run ({} predictions)", predictions).c_str(), ImVec2(-FLT_MIN, 0))) {
        m_message.clear();
        try {
            std::optional<StabilityRequest> stability;
            if (m_settings.stability) {
                stability = StabilityRequest{method, ExplainPanel::currentTarget(workspace), panelA.parameters};
            }
            UncertaintyOptions check;
            m_settings.augmentation().applyTo(check); // its message before the job starts
            m_settings.extraModels = document.uncertainty.extraMembers;
            document.uncertainty.run(m_settings, stability);
        } catch (const Error& e) {
            m_message = e.what();
        }
    }
    ImGui::EndDisabled();
    if (predictions == 1) {
        ImGui::TextDisabled("one member: add models, flips or MC dropout for mutual information and disagreement");
    }
}

void UncertaintyPanel::drawMaps(Document& document, const UncertaintyWork::Result& result, FileDialog& files) {
    const UncertaintyRun& run = result.run;
    ImGui::Separator();
    ImGui::Text("%zu predictions in %.1f s", run.passes, run.seconds);
    if (ImGui::IsItemHovered()) {
        std::string members;
        for (const std::string& name : run.maps.memberNames)
            members += name + "\n";
        ImGui::SetTooltip("%s", members.c_str());
    }
    const int panels = int(document.comparison.panels().size());
    if (panels > 1) {
        ImGui::SetNextItemWidth(80.0f);
        std::vector<std::string> names;
        for (int p = 0; p < panels; ++p)
            names.push_back(std::string("panel ") + char('A' + p));
        comboList("show in", m_panel, names);
    }
    m_panel = std::clamp(m_panel, 0, panels - 1);
    const ExplanationSet& maps = *result.maps;
    const auto* shown = document.comparison.panels()[size_t(m_panel)].result.get();
    const int index = document.workspace.viewer().displays[size_t(m_panel)].index;
    for (size_t n = 0; n < maps.items.size(); ++n) {
        if (n % 2) ImGui::SameLine();
        const bool current = shown == &maps && index == int(n);
        if (ImGui::RadioButton(itemTitle(maps, n).c_str(), current)) document.uncertainty.showMap(m_panel, int(n));
    }
    ImGui::Checkbox("Fade explanations where the ensemble is unsure", &document.workspace.viewer().fadeByCertainty);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("An explanation map's opacity x certainty, certainty = 1 - entropy / ln(classes):\n"
                          "the map stays where the ensemble is sure and fades where it is not.");
    }
    if (ImGui::Button("Save the maps and tables...")) {
        files.open(
            "Save the uncertainty (a folder)", "folder", FileDialog::Mode::Open,
            [&document](const std::vector<std::string>& paths) { document.uncertainty.save(paths.front()); }, {}, {},
            true);
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("the NIfTI maps, instances.csv and summary.json of segxai uncertainty");
}

void UncertaintyPanel::drawStructures(Document& document, const UncertaintyWork::Result& result) {
    const nlohmann::json& summary = result.summary;
    if (ImGui::TreeNodeEx("Per class", ImGuiTreeNodeFlags_DefaultOpen)) {
        ImGui::TextDisabled("means over the voxels each class is predicted in (nats)");
        if (ImGui::BeginTable("uncertaintyClasses", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
            for (const char* name : {"class", "entropy", "MI", "disagree"})
                ImGui::TableSetupColumn(name);
            ImGui::TableHeadersRow();
            for (const auto& c : summary["classes"]) {
                if (c["voxels"].get<size_t>() == 0) continue;
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(c["class"].get<std::string>().c_str());
                for (const char* key : {"mean_entropy", "mean_mutual_information", "mean_disagreement"}) {
                    ImGui::TableNextColumn();
                    ImGui::Text("%.4f", c[key].get<double>());
                }
            }
            ImGui::EndTable();
        }
        ImGui::TreePop();
    }
    if (summary.contains("tp_vs_fp")) {
        ImGui::TextWrapped("Against the ground truth, the ensemble's structures:");
        const auto& t = summary["tp_vs_fp"];
        ImGui::Bullet();
        ImGui::TextWrapped("mutual information: %s", truthLine(t["mean_mutual_information"]).c_str());
        ImGui::Bullet();
        ImGui::TextWrapped("entropy: %s", truthLine(t["mean_entropy"]).c_str());
        ImGui::Bullet();
        ImGui::TextWrapped("members finding it: %s", truthLine(t["member_share"]).c_str());
    }
    // The most uncertain of the open segmentation's structures, each a click away.
    const auto& instances = document.workspace.instances();
    if (!instances || result.perStructure.size() != instances->instances.size()) return;
    std::vector<size_t> order(result.perStructure.size());
    std::iota(order.begin(), order.end(), 0);
    // The first 8 only, every frame: a poor model's CT can have millions of structures.
    const size_t shown = std::min<size_t>(order.size(), 8);
    std::partial_sort(order.begin(), order.begin() + ptrdiff_t(shown), order.end(), [&](size_t a, size_t b) {
        const double ma = result.perStructure[a].meanMutualInformation,
                     mb = result.perStructure[b].meanMutualInformation;
        return ma != mb ? ma > mb : a < b;
    });
    ImGui::Text("Most uncertain structures (of %zu; all in the Instances tab)", order.size());
    const int selected = document.workspace.selectedListIndex();
    for (size_t r = 0; r < shown; ++r) {
        const size_t n = order[r];
        const InstanceUncertainty& u = result.perStructure[n];
        const std::string label =
            fmt::format("{}: MI {:.3f}, H {:.3f}, found by {:.0f}%, volume CV {:.2f}##uncertain{}",
                        document.workspace.structureName(instances->instances[n].id), u.meanMutualInformation,
                        u.meanEntropy, 100.0 * u.memberShare, u.volumeCv, n);
        if (ImGui::Selectable(label.c_str(), int(n) == selected)) document.workspace.selectInstance(int(n));
    }
}

void UncertaintyPanel::drawStability(Document& document, const UncertaintyWork::Result& result) {
    const UncertaintyRun& run = result.run;
    if (!run.stability || !result.stabilityMaps) return;
    ImGui::Separator();
    const ExplanationSpread& s = *run.stability;
    ImGui::TextWrapped("%s of %s by each of %zu members", methodTitle(result.stabilityMaps->items.front().method),
                       run.target->description.c_str(), s.names.size());
    ImGui::Text("mean rank correlation %.3f, top-5%% overlap %.3f", s.meanRankCorrelation, s.meanTopOverlap);
    if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("over every pair of members: Spearman correlation of the maps, and the share of\n"
                          "their 5%% highest voxels in common. Near 1: the explanation is the task's.");
    }
    for (size_t m = 0; m < s.names.size(); ++m) {
        ImGui::Bullet();
        ImGui::TextWrapped("%s: %.1f%% of its positive attribution inside the target", s.names[m].c_str(),
                           100.0 * s.massInside[m]);
    }
    const ExplanationSet& maps = *result.stabilityMaps;
    const auto* shown = document.comparison.panels()[size_t(m_panel)].result.get();
    const int index = document.workspace.viewer().displays[size_t(m_panel)].index;
    for (size_t n = 0; n < maps.items.size(); ++n) {
        const bool current = shown == &maps && index == int(n);
        if (ImGui::RadioButton(itemTitle(maps, n).c_str(), current))
            document.uncertainty.showStability(m_panel, int(n));
    }
}

void UncertaintyPanel::drawModelComparison(Document& document, FileDialog& files) {
    ImGui::TextWrapped("The open model against other versions on this study, without ground truth.");
    drawModelList(m_otherModels, "compared", files);
    ImGui::BeginDisabled(m_otherModels.empty() || document.models.comparing());
    if (ImGui::Button("Compare", ImVec2(-FLT_MIN, 0))) document.models.compare(m_otherModels);
    ImGui::EndDisabled();
    if (const auto result = document.models.result()) drawComparisonTable(document, *result);
}

void UncertaintyPanel::drawComparisonTable(Document& document, const ModelComparisonWork::Result& result) {
    const ModelComparison& c = result.comparison;
    ImGui::Text("%.2f%% of voxels labelled alike by all %zu models", 100.0 * c.voxelAgreement, c.names.size());
    for (const std::string& name : c.onlyInReference)
        ImGui::BulletText("only the open model predicts %s", name.c_str());
    for (const std::string& name : c.onlyInOthers)
        ImGui::BulletText("only another model predicts %s", name.c_str());
    ImGui::TextDisabled("least agreeing first; click a row to go where they disagree");
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_ScrollY;
    const float height = std::min(ImGui::GetTextLineHeightWithSpacing() * float(c.classes.size() + 2), 260.0f);
    if (ImGui::BeginTable("modelAgreement", 5, flags, ImVec2(0, height))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* name : {"class", "model", "Dice", "volume %", "voxels apart"})
            ImGui::TableSetupColumn(name);
        ImGui::TableHeadersRow();
        for (size_t r = 0; r < c.classes.size(); ++r) {
            const ClassAgreement& a = c.classes[r];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const std::string label = fmt::format("{}##agreement{}", a.className, r);
            if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_SpanAllColumns))
                document.models.showRow(r);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(c.names[a.model].c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%.3f", a.dice);
            ImGui::TableNextColumn();
            if (std::isfinite(a.volumeDifferencePercent)) {
                ImGui::Text("%+.1f", a.volumeDifferencePercent);
            } else {
                ImGui::TextUnformatted("new");
            }
            ImGui::TableNextColumn();
            ImGui::Text("%lld", static_cast<long long>(result.disagreementVoxels[r]));
        }
        ImGui::EndTable();
    }
    if (const auto agreement = document.models.agreement()) {
        ImGui::TextWrapped("Panels A and B (%s): rank correlation %.3f, top-5%% overlap %.3f; positive attribution "
                           "inside the target %.1f%% (A) and %.1f%% (B)",
                           agreement->target.c_str(), agreement->maps.rankCorrelation, agreement->maps.topOverlap,
                           100.0 * agreement->insideA, 100.0 * agreement->insideB);
    }
    for (size_t m = 1; m < c.names.size(); ++m) {
        const std::string label = fmt::format("Explain the target with the open model and {} side by side", c.names[m]);
        if (ImGui::Button(label.c_str(), ImVec2(-FLT_MIN, 0))) {
            try {
                m_message.clear();
                document.models.explainSideBySide(m, ExplainPanel::currentTarget(document.workspace));
            } catch (const Error& e) {
                m_message = e.what();
            }
        }
    }
}

} // namespace segxai::app
