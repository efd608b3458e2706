#include "app/gui/panels/explain_panel.h"

#include "app/gui/panels/widgets.h"
#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/explain/map_statistics.h"
#include "engine/io/image_io.h"
#include "render/colormap.h"

#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {
namespace {

// The target kinds the tab offers, in its list's order.
const std::vector<std::pair<TargetSpec::Kind, const char*>> kTargetKinds = {
    {TargetSpec::Kind::ClassRegion, "Class region"},
    {TargetSpec::Kind::Instance, "The picked structure"},
    {TargetSpec::Kind::GroundTruthInstance, "Ground-truth instance at the crosshair"},
    {TargetSpec::Kind::Box, "Box drawn on a slice"},
    {TargetSpec::Kind::Voxel, "Voxel at the crosshair"},
    {TargetSpec::Kind::Channel, "Whole class channel"}};

bool comboColormap(const char* label, int& colormap) {
    bool changed = false;
    if (ImGui::BeginCombo(label, render::colormapName(render::Colormap(colormap)))) {
        for (int m = 0; m < render::kColormapCount; ++m) {
            if (ImGui::Selectable(render::colormapName(render::Colormap(m)), m == colormap)) {
                colormap = m;
                changed = true;
            }
        }
        ImGui::EndCombo();
    }
    return changed;
}

std::string methodsLabel(const std::vector<Method>& methods) {
    if (methods.size() > 1) return "All gradient methods (one pass)";
    return methods.empty() ? "(none)" : methodTitle(methods.front());
}

const LoadedModel& panelModel(const Workspace& workspace, const Panel& panel) {
    return panel.ownModel ? *panel.ownModel : *workspace.model();
}

} // namespace

TargetSpec ExplainPanel::currentTarget(const Workspace& workspace) {
    const ViewerState& state = workspace.viewer();
    const TargetChoice& t = state.target;
    TargetSpec spec;
    spec.kind = t.kind;
    if (t.kind != TargetSpec::Kind::Instance && t.kind != TargetSpec::Kind::GroundTruthInstance) {
        spec.classText = std::to_string(t.classIndex);
    }
    if (t.kind == TargetSpec::Kind::ClassRegion && t.useThreshold) spec.probabilityAbove = t.threshold;
    spec.voxel = state.crosshair;
    // The picked structure wherever the crosshair has moved since; none picked: the crosshair's.
    const int picked = workspace.selectedListIndex();
    if (t.kind == TargetSpec::Kind::Instance && picked >= 0) {
        spec.voxel = workspace.instances()->instances[size_t(picked)].representative;
    }
    if (t.kind == TargetSpec::Kind::Box) {
        if (!state.box) throw Error("draw the box on a slice first");
        spec.voxel = state.box->first;
        spec.boxEnd = state.box->second;
    }
    return withText(spec);
}

void ExplainPanel::drawPanels(Document& document) {
    Workspace& workspace = document.workspace;
    ViewerState& state = workspace.viewer();
    const int count = int(document.comparison.panels().size());
    ImGui::TextUnformatted("Panel");
    for (int p = 0; p < count; ++p) {
        ImGui::SameLine();
        const std::string label(1, char('A' + p));
        if (ImGui::RadioButton(label.c_str(), state.activePanel == p)) state.activePanel = p;
    }
    ImGui::SameLine();
    ImGui::BeginDisabled(count >= kMaxPanels);
    if (ImGui::SmallButton("+")) {
        document.comparison.setPanelCount(count + 1);
        state.activePanel = count;
        state.displays[size_t(count)] = state.displays[0];
        state.layout = Layout::Compare;
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(count <= 1);
    if (ImGui::SmallButton("-")) {
        document.comparison.setPanelCount(count - 1);
        state.activePanel = std::min(state.activePanel, count - 2);
        if (count - 1 == 1) state.layout = Layout::Tri;
    }
    ImGui::EndDisabled();
    state.activePanel = std::clamp(state.activePanel, 0, int(document.comparison.panels().size()) - 1);
    if (document.comparison.panels().size() > 1) {
        bool compare = state.layout == Layout::Compare;
        if (ImGui::Checkbox("Side by side", &compare)) state.layout = compare ? Layout::Compare : Layout::Tri;
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        comboList("##compareView", state.compareView, {"axial", "coronal", "sagittal", "3D"});
        ImGui::Checkbox("Difference A - B", &state.showDifference);
        ImGui::SameLine();
        ImGui::Checkbox("of ranks", &state.rankDifference);
    }
}

void ExplainPanel::drawParameters(Panel& panel) {
    ExplainParameters& p = panel.parameters;
    const bool all = panel.methods.size() > 1;
    const Method method = panel.methods.empty() ? Method::SegGradCam : panel.methods.front();
    if (all || method == Method::SegGradCamPlusPlus) {
        int variant = int(p.variant);
        comboList("Grad-CAM++ variant", variant, {"paper", "monai"});
        p.variant = CamPlusPlusVariant(variant);
    }
    if (method == Method::SmoothGrad) {
        inputCount("samples", p.samples, 1, 100000);
        inputNumber("noise fraction", p.noiseFraction, 0.0, 10.0, 0.01, "%.3f");
        int sampling = int(p.noiseSampling);
        comboList("noise sampling", sampling, {"independent", "antithetic (pairs +e, -e)"});
        p.noiseSampling = NoiseSampling(sampling);
        int seed = int(p.seed);
        if (ImGui::InputInt("seed", &seed)) p.seed = uint64_t(std::max(0, seed));
        ImGui::TextDisabled("Defaults worth trying: 20 x 0.10 (Agg2Exp), 50 x 0.05 (MS lesions)");
    }
    if (method == Method::IntegratedGradients) {
        inputCount("steps", p.steps, 1, 100000);
        int rule = int(p.rule);
        comboList("rule", rule, {"riemann-left", "riemann-right", "riemann-middle", "trapezoid", "gauss-legendre"});
        p.rule = QuadratureRule(rule);
    }
    if (method == Method::IntegratedGradients || method == Method::Occlusion || isFeatureMethod(method)) {
        int baseline = p.baseline.kind == Baseline::Kind::Zero             ? 0
                       : p.baseline.kind == Baseline::Kind::ChannelMinimum ? 1
                                                                           : 2;
        if (comboList("baseline", baseline, {"zero", "channel minimum", "blurred input"})) {
            p.baseline.kind = baseline == 0   ? Baseline::Kind::Zero
                              : baseline == 1 ? Baseline::Kind::ChannelMinimum
                                              : Baseline::Kind::Blurred;
        }
    }
    if (method == Method::Occlusion) {
        inputCount("window", p.window, 1, 4096);
        inputCount("stride", p.stride, 1, 4096);
    }
    if (isFeatureMethod(method)) {
        int features = p.featureCube > 0 ? 1 : 0;
        if (comboList("features", features, {"predicted segments", "cubes"})) p.featureCube = features ? 16 : 0;
        if (p.featureCube > 0) inputCount("cube edge (model voxels)", p.featureCube, 2, 4096);
        if (method == Method::KernelShap) inputCount("coalitions", p.coalitions, 1, 100000);
    }
    int normalize = int(p.normalize);
    comboList("normalise", normalize, {"none", "max", "min-max"});
    p.normalize = Normalize(normalize);
}

void ExplainPanel::drawMethod(Document& document, Panel& panel, FileDialog& files) {
    Workspace& workspace = document.workspace;
    const auto methods = allMethods();
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::BeginCombo("##method", methodsLabel(panel.methods).c_str())) {
        for (Method m : methods) {
            if (ImGui::Selectable(methodTitle(m), panel.methods.size() == 1 && panel.methods[0] == m))
                panel.methods = {m};
        }
        if (ImGui::Selectable("All gradient methods (one pass)", panel.methods.size() > 1)) {
            panel.methods.clear();
            for (Method m : methods) {
                if (isGradientFamily(m)) panel.methods.push_back(m);
            }
        }
        ImGui::EndCombo();
    }
    const bool cam = std::any_of(panel.methods.begin(), panel.methods.end(), isCamMethod);
    if (cam) {
        const LoadedModel& model = panelModel(workspace, panel);
        if (panel.parameters.layer.empty()) {
            try {
                panel.parameters.layer = defaultCamLayer(*model.model, model.layers);
            } catch (const std::exception&) {
            }
        }
        ImGui::SetNextItemWidth(-FLT_MIN);
        const std::string& layer = panel.parameters.layer;
        if (ImGui::BeginCombo("##layer", layer.empty() ? "(no layer)" : layer.c_str())) {
            for (const LayerInfo& l : model.layers) {
                if (!l.capturable || l.shape.size() != 5) continue;
                const std::string label =
                    fmt::format("{}  {}x{}x{}x{}", l.path, l.shape[1], l.shape[2], l.shape[3], l.shape[4]);
                if (ImGui::Selectable(label.c_str(), l.path == layer)) panel.parameters.layer = l.path;
            }
            ImGui::EndCombo();
        }
    }
    if (ImGui::TreeNode("Parameters")) {
        drawParameters(panel);
        const int index = int(&panel - document.comparison.panels().data());
        ImGui::TextDisabled("model: %s", panel.modelPath.empty() ? "the study's model" : panel.modelPath.c_str());
        if (ImGui::SmallButton("Another model for this panel...")) {
            files.open(
                "Panel model", "model", FileDialog::Mode::Open,
                [&document, index](const auto& paths) { document.comparison.setPanelModel(index, paths.front()); },
                [](const std::filesystem::path& p) { return isModelPath(p.string()); }, {}, true);
        }
        if (!panel.modelPath.empty()) {
            ImGui::SameLine();
            if (ImGui::SmallButton("use the study's model")) document.comparison.setPanelModel(index, "");
        }
        ImGui::TreePop();
    }
}

void ExplainPanel::drawTarget(Document& document) {
    Workspace& workspace = document.workspace;
    ViewerState& state = workspace.viewer();
    TargetChoice& t = state.target;
    const Segmentation& segmentation = *workspace.segmentation();
    ImGui::SetNextItemWidth(-FLT_MIN);
    const auto chosen =
        std::find_if(kTargetKinds.begin(), kTargetKinds.end(), [&](const auto& k) { return k.first == t.kind; });
    if (ImGui::BeginCombo("##target", chosen == kTargetKinds.end() ? "" : chosen->second)) {
        for (const auto& [kind, name] : kTargetKinds) {
            if (ImGui::Selectable(name, kind == t.kind)) t.kind = kind;
        }
        ImGui::EndCombo();
    }
    if (t.kind != TargetSpec::Kind::Instance && t.kind != TargetSpec::Kind::GroundTruthInstance) {
        t.classIndex = std::clamp(t.classIndex, 0, int(segmentation.classNames.size()) - 1);
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##class", segmentation.classNames[size_t(t.classIndex)].c_str())) {
            for (int c = 0; c < int(segmentation.classNames.size()); ++c) {
                if (ImGui::Selectable(segmentation.classNames[size_t(c)].c_str(), c == t.classIndex)) t.classIndex = c;
            }
            ImGui::EndCombo();
        }
    }
    if (t.kind == TargetSpec::Kind::ClassRegion) {
        ImGui::Checkbox("where p >", &t.useThreshold);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        const double lowest = 0.0, highest = 0.99;
        ImGui::SliderScalar("##threshold", ImGuiDataType_Double, &t.threshold, &lowest, &highest, "%.2f");
    }
    const std::string picked = workspace.structureName(state.selectedInstance);
    if (t.kind == TargetSpec::Kind::Instance && !picked.empty()) {
        ImGui::TextDisabled("%s (picked with a click; N / P step through)", picked.c_str());
    } else if (t.kind == TargetSpec::Kind::Instance || t.kind == TargetSpec::Kind::GroundTruthInstance ||
               t.kind == TargetSpec::Kind::Voxel) {
        const Index3& v = state.crosshair;
        ImGui::TextDisabled("crosshair voxel %lld, %lld, %lld (click a structure)", (long long)v[0], (long long)v[1],
                            (long long)v[2]);
    }
    if (t.kind == TargetSpec::Kind::Box) {
        ImGui::Checkbox("Draw the box on a slice (left drag)", &state.drawingBox);
        ImGui::SliderInt("depth (slices each side)", &state.boxDepth, 0, 50);
        if (state.box) {
            const auto& [a, b] = *state.box;
            ImGui::TextDisabled("box %lld,%lld,%lld - %lld,%lld,%lld", (long long)a[0], (long long)a[1],
                                (long long)a[2], (long long)b[0], (long long)b[1], (long long)b[2]);
            ImGui::SameLine();
            if (ImGui::SmallButton("clear")) state.box.reset();
        } else {
            ImGui::TextDisabled("no box yet");
        }
    } else {
        state.drawingBox = false;
    }
}

void ExplainPanel::drawFigures(Document& document) {
    const auto& panels = document.comparison.panels();
    if (!ImGui::BeginTable("figures", 5, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_RowBg)) return;
    ImGui::TableSetupColumn("panel");
    ImGui::TableSetupColumn("min");
    ImGui::TableSetupColumn("max");
    ImGui::TableSetupColumn("in target");
    ImGui::TableSetupColumn("r with A");
    ImGui::TableHeadersRow();
    for (int p = 0; p < int(panels.size()); ++p) {
        const auto& set = panels[size_t(p)].result;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::Text("%c", 'A' + p);
        const auto shown = document.comparison.shownMap(p);
        if (!set || !shown) continue;
        const MapFigures& f = shown->figures;
        ImGui::TableNextColumn();
        ImGui::Text("%.3g", f.minimum);
        ImGui::TableNextColumn();
        ImGui::Text("%.3g", f.maximum);
        ImGui::TableNextColumn();
        ImGui::Text("%.0f %%", 100.0 * f.shareInTarget);
        ImGui::TableNextColumn();
        if (p == 0) {
            ImGui::TextDisabled("-");
        } else if (const auto r = document.comparison.correlationWithA(p)) {
            ImGui::Text("%.3f", *r);
        } else if (panels[0].result) {
            ImGui::TextDisabled("...");
        }
    }
    ImGui::EndTable();
}

void ExplainPanel::drawResults(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    ViewerState& state = workspace.viewer();
    const Panel& panel = document.comparison.panel(state.activePanel);
    const auto& set = panel.result;
    if (!set) return;
    MapDisplay& display = state.displays[size_t(state.activePanel)];
    ImGui::Separator();
    ImGui::TextWrapped("%c: %s", 'A' + state.activePanel, set->targetDescription.c_str());
    for (int n = 0; n < int(set->items.size()); ++n) {
        const Explanation& e = set->items[size_t(n)];
        const std::string label = set->titles.empty()
                                      ? fmt::format("{}  ({:.2f} s)##result{}", methodTitle(e.method), e.seconds, n)
                                      : fmt::format("{}##result{}", itemTitle(*set, size_t(n)), n);
        if (ImGui::Selectable(label.c_str(), n == display.index)) display.index = n;
    }
    display.index = std::clamp(display.index, 0, int(set->items.size()) - 1);
    const Explanation& e = set->items[size_t(display.index)];
    if (e.maps.size() > 1) {
        for (int m = 0; m < int(e.maps.size()); ++m) {
            if (m) ImGui::SameLine();
            ImGui::RadioButton(e.maps[size_t(m)].channel.c_str(), &display.map, m);
        }
    }
    display.map = std::clamp(display.map, 0, int(e.maps.size()) - 1);
    const ExplanationMap& map = e.maps[size_t(display.map)];
    const MapFigures& f = set->figures[size_t(display.index)][size_t(display.map)];
    ImGui::TextDisabled("S = %.5g on %s", e.score, e.scoreOn.c_str());
    if (e.completenessGap) ImGui::TextDisabled("completeness gap %.4f", *e.completenessGap);
    if (isCamMethod(e.method)) ImGui::TextDisabled("layer %s", e.layer.c_str());
    ImGui::Checkbox("Show map", &display.show);
    comboColormap("colours", map.signedValues ? display.signedColormap : display.unsignedColormap);
    ImGui::SliderFloat("opacity##explanation", &display.opacity, 0.0f, 1.0f);
    ImGui::SliderFloat("hide below", &display.threshold, 0.0f, 0.9f, "%.2f of the range");
    if (map.signedValues) {
        ImGui::Checkbox("separate negative range", &display.separateNegative);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("Scale the negative side of the map on its own values, not on the positive side's");
    }
    const bool separate = map.signedValues && display.separateNegative;
    ImGui::SliderFloat(separate ? "gain +" : "gain", &display.gain, 0.25f, 8.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
    if (separate) {
        ImGui::SliderFloat("gain -", &display.negativeGain, 0.25f, 8.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
        ImGui::TextDisabled("colour range: -%.4g .. +%.4g", f.negativeExtent / display.negativeGain,
                            f.extent / display.gain);
    } else {
        ImGui::TextDisabled("colour range: %s%.4g (99.5th percentile of |map|%s; max %.4g)",
                            map.signedValues ? "+/- " : "0 - ", f.extent / display.gain,
                            display.gain != 1.0f ? " / gain" : "", std::max(std::abs(f.minimum), std::abs(f.maximum)));
    }
    if (ImGui::Button("Save map as NIfTI...")) {
        const int panel = state.activePanel;
        const std::string name = document.comparison.fileStem(panel) + ".nii.gz";
        files.open(
            "Save map", "volume", FileDialog::Mode::Save,
            [&document, panel](const std::vector<std::string>& paths) {
                document.comparison.exportShownMap(panel, paths.front());
            },
            {}, name);
    }
    ImGui::Separator();
    drawFigures(document);
}

void ExplainPanel::draw(Document& document, FileDialog& files) {
    Workspace& workspace = document.workspace;
    if (!workspace.study() || !workspace.model()) {
        ImGui::TextWrapped("Open a study and a model: the model segments the study, then its prediction can be "
                           "explained here.");
        return;
    }
    if (!workspace.segmentation()) {
        ImGui::TextWrapped("Segment the study first (Model tab).");
        return;
    }
    drawPanels(document);
    ViewerState& state = workspace.viewer();
    Panel& panel = document.comparison.panel(state.activePanel);
    drawMethod(document, panel, files);
    ImGui::Separator();
    drawTarget(document);
    const bool busy = document.comparison.explaining();
    ImGui::BeginDisabled(busy);
    const bool many = document.comparison.panels().size() > 1;
    const float width = many ? ImGui::GetContentRegionAvail().x * 0.5f - 4.0f : -FLT_MIN;
    int run = -2; // -1: all panels
    if (ImGui::Button(
            busy ? "Explaining..."
                 : fmt::format("Explain {}", many ? std::string("panel ") + char('A' + state.activePanel) : "").c_str(),
            ImVec2(width, 0))) {
        run = state.activePanel;
    }
    if (many) {
        ImGui::SameLine();
        if (ImGui::Button("Explain all panels", ImVec2(-FLT_MIN, 0))) run = -1;
    }
    const std::string picked = workspace.structureName(state.selectedInstance);
    if (!picked.empty() &&
        ImGui::Button(fmt::format("Explain the picked structure ({})", picked).c_str(), ImVec2(-FLT_MIN, 0))) {
        state.target.kind = TargetSpec::Kind::Instance;
        run = -1;
    }
    ImGui::EndDisabled();
    if (run != -2) {
        try {
            const TargetSpec target = currentTarget(workspace);
            if (run == -1) {
                document.comparison.explainAll(target);
            } else {
                document.comparison.explain(run, target);
            }
            m_error.clear();
        } catch (const std::exception& e) {
            m_error = e.what();
        }
    }
    if (!m_error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", m_error.c_str());
    drawResults(document, files);
}

} // namespace segxai::app
