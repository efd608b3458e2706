#include "app/gui/explain_panel.h"

#include "engine/image_io.h"
#include "engine/log.h"
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

} // namespace

ExplainChoice ExplainPanel::choice(const Workspace& workspace) const {
    ExplainChoice c;
    if (m_method < 0) {
        for (Method m : allMethods()) {
            if (isGradientFamily(m)) c.methods.push_back(m);
        }
    } else {
        c.methods = {allMethods()[size_t(m_method)]};
    }
    c.parameters = m_parameters;
    c.parameters.layer = m_layer;
    c.parameters.baseline.kind = m_baseline == 0 ? Baseline::Kind::Zero
                                 : m_baseline == 1 ? Baseline::Kind::ChannelMinimum
                                                   : Baseline::Kind::Blurred;
    const ViewerState& state = const_cast<Workspace&>(workspace).viewer();
    const std::string cls = std::to_string(m_class);
    std::string spec;
    switch (m_target) {
    case TargetKind::ClassRegion:
        spec = "class:" + cls + (m_useThreshold ? fmt::format(":{:g}", m_threshold) : "");
        break;
    case TargetKind::Instance: spec = "instance:" + voxelText(state.crosshair); break;
    case TargetKind::GroundTruthInstance: spec = "gt-instance:" + voxelText(state.crosshair); break;
    case TargetKind::Box:
        if (state.box) spec = "box:" + voxelText(state.box->first) + "," + voxelText(state.box->second) + "@" + cls;
        break;
    case TargetKind::Voxel: spec = "voxel:" + voxelText(state.crosshair) + "@" + cls; break;
    case TargetKind::Channel: spec = "channel:" + cls; break;
    }
    if (!spec.empty()) c.target = parseTargetSpec(spec);
    return c;
}

void ExplainPanel::drawParameters() {
    const bool all = m_method < 0;
    const Method method = all ? Method::SegGradCam : allMethods()[size_t(m_method)];
    ExplainParameters& p = m_parameters;
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
        ImGui::Combo("baseline", &m_baseline, "zero\0channel minimum\0blurred input\0");
    }
    if (method == Method::Occlusion) {
        ImGui::SliderInt("window", &p.window, 1, 64);
        ImGui::SliderInt("stride", &p.stride, 1, 64);
    }
    int normalize = int(p.normalize);
    ImGui::Combo("normalise", &normalize, "none\0max\0min-max\0");
    p.normalize = Normalize(normalize);
}

bool ExplainPanel::drawSetup(Workspace& workspace) {
    const LoadedModel& model = *workspace.model();
    const Segmentation& segmentation = *workspace.segmentation();
    ViewerState& state = workspace.viewer();

    const auto methods = allMethods();
    const char* methodLabel = m_method < 0 ? "All gradient methods (one pass)" : methodTitle(methods[size_t(m_method)]);
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::BeginCombo("##method", methodLabel)) {
        for (int m = 0; m < int(methods.size()); ++m) {
            if (ImGui::Selectable(methodTitle(methods[size_t(m)]), m == m_method)) m_method = m;
        }
        if (ImGui::Selectable("All gradient methods (one pass)", m_method < 0)) m_method = -1;
        ImGui::EndCombo();
    }
    const bool cam = m_method < 0 || isCamMethod(methods[size_t(m_method)]);
    if (cam) {
        if (m_layer.empty()) {
            try {
                m_layer = defaultCamLayer(*model.model, model.layers);
            } catch (const std::exception&) {
            }
        }
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##layer", m_layer.empty() ? "(no layer)" : m_layer.c_str())) {
            for (const LayerInfo& layer : model.layers) {
                if (!layer.capturable || layer.shape.size() != 5) continue;
                const std::string label = fmt::format("{}  {}x{}x{}x{}", layer.path, layer.shape[1], layer.shape[2],
                                                      layer.shape[3], layer.shape[4]);
                if (ImGui::Selectable(label.c_str(), layer.path == m_layer)) m_layer = layer.path;
            }
            ImGui::EndCombo();
        }
    }

    int target = int(m_target);
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::Combo("##target", &target, kTargetNames, IM_ARRAYSIZE(kTargetNames))) m_target = TargetKind(target);
    const bool needsClass = m_target != TargetKind::Instance && m_target != TargetKind::GroundTruthInstance;
    if (needsClass) {
        m_class = std::clamp(m_class, 0, int(segmentation.classNames.size()) - 1);
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##class", segmentation.classNames[size_t(m_class)].c_str())) {
            for (int c = 0; c < int(segmentation.classNames.size()); ++c) {
                if (ImGui::Selectable(segmentation.classNames[size_t(c)].c_str(), c == m_class)) m_class = c;
            }
            ImGui::EndCombo();
        }
    }
    if (m_target == TargetKind::ClassRegion) {
        ImGui::Checkbox("where p >", &m_useThreshold);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##threshold", &m_threshold, 0.0f, 0.99f, "%.2f");
    }
    if (m_target == TargetKind::Instance || m_target == TargetKind::GroundTruthInstance || m_target == TargetKind::Voxel) {
        const Index3& v = state.crosshair;
        ImGui::TextDisabled("crosshair voxel %lld, %lld, %lld (click a structure)", (long long)v[0], (long long)v[1], (long long)v[2]);
    }
    if (m_target == TargetKind::Instance || m_target == TargetKind::GroundTruthInstance) {
        int connectivity = m_parameters.instances.connectivity == 6 ? 0 : m_parameters.instances.connectivity == 18 ? 1 : 2;
        if (ImGui::Combo("neighbours", &connectivity, "6\0" "18\0" "26\0")) {
            m_parameters.instances.connectivity = connectivity == 0 ? 6 : connectivity == 1 ? 18 : 26;
        }
    }
    if (m_target == TargetKind::Box) {
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
    if (ImGui::TreeNode("Parameters")) {
        drawParameters();
        ImGui::TreePop();
    }
    const bool busy = workspace.busy("explain");
    const bool ready = m_target != TargetKind::Box || state.box.has_value();
    ImGui::BeginDisabled(busy || !ready);
    const bool run = ImGui::Button(busy ? "Explaining..." : "Explain", ImVec2(-FLT_MIN, 0));
    ImGui::EndDisabled();
    return run;
}

void ExplainPanel::drawResults(Workspace& workspace, FileDialog& files) {
    const auto& set = workspace.explanations();
    ViewerState& state = workspace.viewer();
    if (!set) return;
    ImGui::Separator();
    ImGui::TextWrapped("%s", set->targetDescription.c_str());
    for (int n = 0; n < int(set->items.size()); ++n) {
        const Explanation& e = set->items[size_t(n)];
        const std::string label = fmt::format("{}  ({:.2f} s)##result{}", methodTitle(e.method), e.seconds, n);
        if (ImGui::Selectable(label.c_str(), n == state.explanationIndex)) {
            state.explanationIndex = n;
            state.explanationMap = std::min<int>(state.explanationMap, int(e.maps.size()) - 1);
        }
    }
    state.explanationIndex = std::clamp(state.explanationIndex, 0, int(set->items.size()) - 1);
    const Explanation& e = set->items[size_t(state.explanationIndex)];
    if (e.maps.size() > 1) {
        for (int m = 0; m < int(e.maps.size()); ++m) {
            if (m) ImGui::SameLine();
            ImGui::RadioButton(e.maps[size_t(m)].channel.c_str(), &state.explanationMap, m);
        }
    }
    state.explanationMap = std::clamp(state.explanationMap, 0, int(e.maps.size()) - 1);
    const ExplanationMap& map = e.maps[size_t(state.explanationMap)];
    const auto [robust, largest] = set->extents[size_t(state.explanationIndex)][size_t(state.explanationMap)];
    ImGui::TextDisabled("S = %.5g on %s; |map| up to %.4g", e.score, e.scoreOn.c_str(), largest);
    if (e.completenessGap) ImGui::TextDisabled("completeness gap %.4f", *e.completenessGap);
    if (isCamMethod(e.method)) ImGui::TextDisabled("layer %s", e.layer.c_str());
    ImGui::Checkbox("Show map", &state.showExplanation);
    if (map.signedValues) {
        comboColormap("colours", state.signedColormap);
    } else {
        comboColormap("colours", state.unsignedColormap);
    }
    ImGui::SliderFloat("opacity##explanation", &state.explanationOpacity, 0.0f, 1.0f);
    ImGui::SliderFloat("hide below", &state.explanationThreshold, 0.0f, 0.9f, "%.2f of the range");
    ImGui::SliderFloat("gain", &state.explanationGain, 0.25f, 8.0f, "%.2f", ImGuiSliderFlags_Logarithmic);
    ImGui::TextDisabled("colour range: %s%.4g", map.signedValues ? "+/- " : "0 - ", robust / state.explanationGain);
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
    // Results that arrived from elsewhere (the command line): show their method in the setup.
    if (const auto& set = workspace.explanations(); set && workspace.explanationGeneration() != m_shownGeneration) {
        m_shownGeneration = workspace.explanationGeneration();
        if (set->items.size() == 1) {
            const auto methods = allMethods();
            m_method = int(std::find(methods.begin(), methods.end(), set->items[0].method) - methods.begin());
            if (isCamMethod(set->items[0].method)) m_layer = set->items[0].layer;
        } else if (set->items.size() > 1) {
            m_method = -1;
        }
    }
    if (drawSetup(workspace)) {
        try {
            workspace.explain(choice(workspace));
            m_error.clear();
        } catch (const std::exception& e) {
            m_error = e.what();
        }
    }
    if (!m_error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", m_error.c_str());
    drawResults(workspace, files);
}

} // namespace segxai::app
