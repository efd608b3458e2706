#include "app/gui/explain_panel.h"

#include "engine/error.h"
#include "engine/image_io.h"
#include "engine/log.h"
#include "engine/map_statistics.h"
#include "render/colormap.h"

#include <fmt/format.h>
#include <imgui.h>

namespace segxai::app {
namespace {

const char* kTargetNames[] = {"Class region", "Instance at the crosshair", "Ground-truth instance at the crosshair",
                              "Box drawn on a slice", "Voxel at the crosshair", "Whole class channel"};

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

std::string voxelText(const Index3& v) { return fmt::format("{},{},{}", v[0], v[1], v[2]); }

std::string methodsLabel(const std::vector<Method>& methods) {
    if (methods.size() > 1) return "All gradient methods (one pass)";
    return methods.empty() ? "(none)" : methodTitle(methods.front());
}

const LoadedModel& panelModel(const Workspace& workspace, const Panel& panel) {
    return panel.ownModel ? *panel.ownModel : *workspace.model();
}

} // namespace

TargetSpec ExplainPanel::currentTarget(Workspace& workspace) {
    const ViewerState& state = workspace.viewer();
    const TargetSetup& t = state.target;
    const std::string cls = std::to_string(t.classIndex);
    switch (t.kind) {
    case TargetSetup::Kind::ClassRegion:
        return parseTargetSpec("class:" + cls + (t.useThreshold ? fmt::format(":{:g}", t.threshold) : ""));
    case TargetSetup::Kind::Instance: return parseTargetSpec("instance:" + voxelText(state.crosshair));
    case TargetSetup::Kind::GroundTruthInstance: return parseTargetSpec("gt-instance:" + voxelText(state.crosshair));
    case TargetSetup::Kind::Box:
        if (!state.box) throw Error("draw the box on a slice first");
        return parseTargetSpec("box:" + voxelText(state.box->first) + "," + voxelText(state.box->second) + "@" + cls);
    case TargetSetup::Kind::Voxel: return parseTargetSpec("voxel:" + voxelText(state.crosshair) + "@" + cls);
    case TargetSetup::Kind::Channel: return parseTargetSpec("channel:" + cls);
    }
    return parseTargetSpec("class:" + cls);
}

void ExplainPanel::drawPanels(Workspace& workspace) {
    ViewerState& state = workspace.viewer();
    const int count = int(workspace.panels().size());
    ImGui::TextUnformatted("Panel");
    for (int p = 0; p < count; ++p) {
        ImGui::SameLine();
        const std::string label(1, char('A' + p));
        if (ImGui::RadioButton(label.c_str(), state.activePanel == p)) state.activePanel = p;
    }
    ImGui::SameLine();
    ImGui::BeginDisabled(count >= kMaxPanels);
    if (ImGui::SmallButton("+")) {
        workspace.setPanelCount(count + 1);
        state.activePanel = count;
        state.displays[size_t(count)] = state.displays[0];
        state.layout = Layout::Compare;
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(count <= 1);
    if (ImGui::SmallButton("-")) {
        workspace.setPanelCount(count - 1);
        state.activePanel = std::min(state.activePanel, count - 2);
        if (count - 1 == 1) state.layout = Layout::Tri;
    }
    ImGui::EndDisabled();
    state.activePanel = std::clamp(state.activePanel, 0, int(workspace.panels().size()) - 1);
    if (workspace.panels().size() > 1) {
        bool compare = state.layout == Layout::Compare;
        if (ImGui::Checkbox("Side by side", &compare)) state.layout = compare ? Layout::Compare : Layout::Tri;
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::Combo("##compareView", &state.compareView, "axial\0coronal\0sagittal\03D\0");
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
        ImGui::Combo("Grad-CAM++ variant", &variant, "paper\0monai\0");
        p.variant = CamPlusPlusVariant(variant);
    }
    if (method == Method::SmoothGrad) {
        ImGui::SliderInt("samples", &p.samples, 1, 200);
        float fraction = float(p.noiseFraction);
        ImGui::SliderFloat("noise fraction", &fraction, 0.0f, 0.5f, "%.3f");
        p.noiseFraction = fraction;
        int seed = int(p.seed);
        if (ImGui::InputInt("seed", &seed)) p.seed = uint64_t(std::max(0, seed));
        ImGui::TextDisabled("Defaults worth trying: 20 x 0.10 (Agg2Exp), 50 x 0.05 (MS lesions)");
    }
    if (method == Method::IntegratedGradients) {
        ImGui::SliderInt("steps", &p.steps, 2, 200);
        int rule = int(p.rule);
        ImGui::Combo("rule", &rule, "riemann-left\0riemann-right\0riemann-middle\0trapezoid\0gauss-legendre\0");
        p.rule = QuadratureRule(rule);
    }
    if (method == Method::IntegratedGradients || method == Method::Occlusion) {
        int baseline = p.baseline.kind == Baseline::Kind::Zero ? 0 : p.baseline.kind == Baseline::Kind::ChannelMinimum ? 1 : 2;
        if (ImGui::Combo("baseline", &baseline, "zero\0channel minimum\0blurred input\0")) {
            p.baseline.kind = baseline == 0 ? Baseline::Kind::Zero : baseline == 1 ? Baseline::Kind::ChannelMinimum : Baseline::Kind::Blurred;
        }
    }
    if (method == Method::Occlusion) {
        ImGui::SliderInt("window", &p.window, 1, 64);
        ImGui::SliderInt("stride", &p.stride, 1, 64);
    }
    int normalize = int(p.normalize);
    ImGui::Combo("normalise", &normalize, "none\0max\0min-max\0");
    p.normalize = Normalize(normalize);
}

void ExplainPanel::drawMethod(Workspace& workspace, Panel& panel, FileDialog& files) {
    const auto methods = allMethods();
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::BeginCombo("##method", methodsLabel(panel.methods).c_str())) {
        for (Method m : methods) {
            if (ImGui::Selectable(methodTitle(m), panel.methods.size() == 1 && panel.methods[0] == m)) panel.methods = {m};
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
                const std::string label = fmt::format("{}  {}x{}x{}x{}", l.path, l.shape[1], l.shape[2], l.shape[3], l.shape[4]);
                if (ImGui::Selectable(label.c_str(), l.path == layer)) panel.parameters.layer = l.path;
            }
            ImGui::EndCombo();
        }
    }
    if (ImGui::TreeNode("Parameters")) {
        drawParameters(panel);
        const int index = int(&panel - workspace.panels().data());
        ImGui::TextDisabled("model: %s", panel.modelPath.empty() ? "the study's model" : panel.modelPath.c_str());
        if (ImGui::SmallButton("Another model for this panel...")) {
            files.open("Panel model", FileDialog::Mode::Open,
                       [&workspace, index](const auto& paths) { workspace.setPanelModel(index, paths.front()); },
                       [](const std::filesystem::path& p) { return isModelPath(p.string()); }, {}, true);
        }
        if (!panel.modelPath.empty()) {
            ImGui::SameLine();
            if (ImGui::SmallButton("use the study's model")) workspace.setPanelModel(index, "");
        }
        ImGui::TreePop();
    }
}

void ExplainPanel::drawTarget(Workspace& workspace) {
    ViewerState& state = workspace.viewer();
    TargetSetup& t = state.target;
    const Segmentation& segmentation = *workspace.segmentation();
    int kind = int(t.kind);
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::Combo("##target", &kind, kTargetNames, IM_ARRAYSIZE(kTargetNames))) t.kind = TargetSetup::Kind(kind);
    if (t.kind != TargetSetup::Kind::Instance && t.kind != TargetSetup::Kind::GroundTruthInstance) {
        t.classIndex = std::clamp(t.classIndex, 0, int(segmentation.classNames.size()) - 1);
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##class", segmentation.classNames[size_t(t.classIndex)].c_str())) {
            for (int c = 0; c < int(segmentation.classNames.size()); ++c) {
                if (ImGui::Selectable(segmentation.classNames[size_t(c)].c_str(), c == t.classIndex)) t.classIndex = c;
            }
            ImGui::EndCombo();
        }
    }
    if (t.kind == TargetSetup::Kind::ClassRegion) {
        ImGui::Checkbox("where p >", &t.useThreshold);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##threshold", &t.threshold, 0.0f, 0.99f, "%.2f");
    }
    if (t.kind == TargetSetup::Kind::Instance || t.kind == TargetSetup::Kind::GroundTruthInstance ||
        t.kind == TargetSetup::Kind::Voxel) {
        const Index3& v = state.crosshair;
        ImGui::TextDisabled("crosshair voxel %lld, %lld, %lld (click a structure)", (long long)v[0], (long long)v[1],
                            (long long)v[2]);
    }
    if (t.kind == TargetSetup::Kind::Box) {
        ImGui::Checkbox("Draw the box on a slice (left drag)", &state.drawingBox);
        ImGui::SliderInt("depth (slices each side)", &state.boxDepth, 0, 50);
        if (state.box) {
            const auto& [a, b] = *state.box;
            ImGui::TextDisabled("box %lld,%lld,%lld - %lld,%lld,%lld", (long long)a[0], (long long)a[1], (long long)a[2],
                                (long long)b[0], (long long)b[1], (long long)b[2]);
            ImGui::SameLine();
            if (ImGui::SmallButton("clear")) state.box.reset();
        } else {
            ImGui::TextDisabled("no box yet");
        }
    } else {
        state.drawingBox = false;
    }
}

double ExplainPanel::correlation(const Workspace& workspace, int panel) {
    const auto& panels = workspace.panels();
    const ViewerState& state = const_cast<Workspace&>(workspace).viewer();
    const auto& a = panels[0].result;
    const auto& b = panels[size_t(panel)].result;
    const MapDisplay &da = state.displays[0], &db = state.displays[size_t(panel)];
    const std::string key = fmt::format("{}/{}/{}/{}/{}/{}/{}", panel, panels[0].generation, panels[size_t(panel)].generation,
                                        da.index, da.map, db.index, db.map);
    if (auto it = m_correlations.find(key); it != m_correlations.end()) return it->second;
    const Explanation& ea = a->items[size_t(std::clamp(da.index, 0, int(a->items.size()) - 1))];
    const Explanation& eb = b->items[size_t(std::clamp(db.index, 0, int(b->items.size()) - 1))];
    const double r = pearsonCorrelation(ea.maps[size_t(std::clamp(da.map, 0, int(ea.maps.size()) - 1))].values,
                                        eb.maps[size_t(std::clamp(db.map, 0, int(eb.maps.size()) - 1))].values);
    m_correlations[key] = r;
    return r;
}

void ExplainPanel::drawFigures(Workspace& workspace) {
    const auto& panels = workspace.panels();
    const ViewerState& state = workspace.viewer();
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
        if (!set) continue;
        const MapDisplay& d = state.displays[size_t(p)];
        const size_t index = size_t(std::clamp(d.index, 0, int(set->items.size()) - 1));
        const size_t map = size_t(std::clamp(d.map, 0, int(set->items[index].maps.size()) - 1));
        const MapFigures& f = set->figures[index][map];
        ImGui::TableNextColumn();
        ImGui::Text("%.3g", f.minimum);
        ImGui::TableNextColumn();
        ImGui::Text("%.3g", f.maximum);
        ImGui::TableNextColumn();
        ImGui::Text("%.0f %%", 100.0 * f.shareInTarget);
        ImGui::TableNextColumn();
        if (p == 0) {
            ImGui::TextDisabled("-");
        } else if (panels[0].result) {
            ImGui::Text("%.3f", correlation(workspace, p));
        }
    }
    ImGui::EndTable();
}

void ExplainPanel::drawResults(Workspace& workspace, FileDialog& files) {
    ViewerState& state = workspace.viewer();
    const Panel& panel = workspace.panels()[size_t(state.activePanel)];
    const auto& set = panel.result;
    if (!set) return;
    MapDisplay& display = state.displays[size_t(state.activePanel)];
    ImGui::Separator();
    ImGui::TextWrapped("%c: %s", 'A' + state.activePanel, set->targetDescription.c_str());
    for (int n = 0; n < int(set->items.size()); ++n) {
        const Explanation& e = set->items[size_t(n)];
        const std::string label = fmt::format("{}  ({:.2f} s)##result{}", methodTitle(e.method), e.seconds, n);
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
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Scale the negative side of the map on its own values, not on the positive side's");
    }
    const bool separate = map.signedValues && display.separateNegative;
    ImGui::SliderFloat(separate ? "gain +" : "gain", &display.gain, 0.25f, 8.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
    if (separate) {
        ImGui::SliderFloat("gain -", &display.negativeGain, 0.25f, 8.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
        ImGui::TextDisabled("colour range: -%.4g .. +%.4g", f.negativeExtent / display.negativeGain, f.extent / display.gain);
    } else {
        ImGui::TextDisabled("colour range: %s%.4g", map.signedValues ? "+/- " : "0 - ", f.extent / display.gain);
    }
    if (ImGui::Button("Save map as NIfTI...")) {
        const std::string name = std::string(methodId(e.method)) + (map.channel.empty() ? "" : "_" + map.channel) + ".nii.gz";
        const Volume values = inStudyGrid(map, workspace.study()->study->geometry);
        std::vector<std::string> inputs = workspace.studyRequest().channelPaths;
        files.open("Save map", FileDialog::Mode::Save, [values, inputs](const std::vector<std::string>& paths) {
            try {
                writeVolume(values, paths.front(), inputs);
                logInfo("saved {}", paths.front());
            } catch (const std::exception& error) {
                logError("{}", error.what());
            }
        }, {}, name);
    }
    ImGui::Separator();
    drawFigures(workspace);
}

void ExplainPanel::draw(Workspace& workspace, FileDialog& files) {
    if (!workspace.study() || !workspace.model()) {
        ImGui::TextWrapped("Open a study and a model: the model segments the study, then its prediction can be "
                           "explained here.");
        return;
    }
    if (!workspace.segmentation()) {
        ImGui::TextWrapped("Segment the study first (Model tab).");
        return;
    }
    drawPanels(workspace);
    ViewerState& state = workspace.viewer();
    Panel& panel = workspace.panels()[size_t(state.activePanel)];
    drawMethod(workspace, panel, files);
    ImGui::Separator();
    drawTarget(workspace);
    const bool busy = workspace.busy("explain");
    ImGui::BeginDisabled(busy);
    const bool many = workspace.panels().size() > 1;
    const float width = many ? ImGui::GetContentRegionAvail().x * 0.5f - 4.0f : -FLT_MIN;
    int run = -2; // -1: all panels
    if (ImGui::Button(busy ? "Explaining..." : fmt::format("Explain {}", many ? std::string("panel ") + char('A' + state.activePanel) : "").c_str(),
                      ImVec2(width, 0))) {
        run = state.activePanel;
    }
    if (many) {
        ImGui::SameLine();
        if (ImGui::Button("Explain all panels", ImVec2(-FLT_MIN, 0))) run = -1;
    }
    ImGui::EndDisabled();
    if (run != -2) {
        try {
            const TargetSpec target = currentTarget(workspace);
            if (run == -1) {
                workspace.explainAllPanels(target);
            } else {
                workspace.explain(run, target);
            }
            m_error.clear();
        } catch (const std::exception& e) {
            m_error = e.what();
        }
    }
    if (!m_error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", m_error.c_str());
    drawResults(workspace, files);
}

} // namespace segxai::app
