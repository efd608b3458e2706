#include "app/gui/panels/model_panel.h"

#include "app/gui/panels/widgets.h"
#include "engine/model/model_card.h"
#include "render/colormap.h"

#include <algorithm>
#include <imgui.h>
#include <imgui_stdlib.h>

namespace segxai::app {
namespace {

ImVec4 toColor(const std::array<uint8_t, 3>& c) {
    return ImVec4(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, 1.0f);
}

void drawCard(const LoadedModel& loaded, const Workspace& workspace) {
    const Model& model = *loaded.model;
    const ModelCard& card = model.card();
    ImGui::TextWrapped("%s", card.name.c_str());
    if (!card.description.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
        ImGui::TextWrapped("%s", card.description.c_str());
        ImGui::PopStyleColor();
    }
    if (card.syntheticData) {
        ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.35f, 1.0f), "Trained on synthetic data.");
    }
    if (ImGui::TreeNodeEx("Input", ImGuiTreeNodeFlags_DefaultOpen)) {
        const auto* study = workspace.study() ? workspace.study()->study.get() : nullptr;
        const int64_t expected = model.expectedInputChannels();
        for (int64_t c = 0; c < std::max<int64_t>(expected, 0); ++c) {
            const std::string want =
                size_t(c) < card.inputChannels.size() ? card.inputChannels[size_t(c)] : "channel " + std::to_string(c);
            const std::string have =
                study && size_t(c) < study->channels.size() ? study->channels[size_t(c)].name : "(missing)";
            ImGui::BulletText("%s  <-  %s", want.c_str(), have.c_str());
        }
        if (study && expected >= 0 && size_t(expected) != study->channels.size()) {
            ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "The study has %zu channel(s).", study->channels.size());
        }
        if (const auto& match = workspace.channelMatch(); study && match) {
            using Outcome = ChannelMatch::Outcome;
            const char* how = !workspace.channelMatching()              ? "in the order you set (Study tab)"
                              : match->outcome == Outcome::InOrder      ? "matched by name"
                              : match->outcome == Outcome::Reordered    ? "matched by name (reordered)"
                              : match->outcome == Outcome::Unrecognised ? "in the order given: the names do not say"
                              : match->outcome == Outcome::Ambiguous    ? "ambiguous names: choose the order"
                                                                        : "in the order given";
            ImGui::TextDisabled("channels %s", how);
            for (const auto& w : match->warnings)
                ImGui::TextColored(ImVec4(1.0f, 0.7f, 0.3f, 1.0f), "%s", w.c_str());
        }
        if (const NnunetPlan* plan = model.nnunetPlan()) {
            // nnU-Net's own preprocessing (docs/models.md#nnu-net-results-folders), in its axis order.
            std::string schemes;
            for (const auto& n : plan->normalization)
                schemes += (schemes.empty() ? "" : ", ") + n.name;
            ImGui::TextWrapped("nnU-Net preprocessing: %scrop to the non-zero box, %s, resampled to %g x %g x %g mm "
                               "(nnU-Net's axis order k, j, i)",
                               plan->reorientToRas ? "reoriented to RAS, " : "", schemes.c_str(), plan->spacing[0],
                               plan->spacing[1], plan->spacing[2]);
        } else if (card.spacingMm) {
            ImGui::Text("resampled to %g x %g x %g mm", (*card.spacingMm)[0], (*card.spacingMm)[1],
                        (*card.spacingMm)[2]);
        } else {
            ImGui::Text("study grid");
        }
        if (card.reorientToRas && !model.nnunetPlan()) ImGui::Text("reoriented to RAS");
        if (const NnunetSelection* nnunet = model.nnunetSelection()) {
            const auto& p = model.nnunetPlan()->patch;
            ImGui::Text("Gaussian sliding window %lld x %lld x %lld, step %.2f", (long long)p[0], (long long)p[1],
                        (long long)p[2], nnunet->options.tileStep);
        } else if (card.slidingWindow) {
            const auto& w = *card.slidingWindow;
            ImGui::Text("sliding window %lld x %lld x %lld, overlap %.2f", (long long)w.patch[0], (long long)w.patch[1],
                        (long long)w.patch[2], w.overlap);
        }
        ImGui::TextDisabled("card: %s", card.source.c_str());
        ImGui::TreePop();
    }
}

std::string axesText(const std::vector<int>& axes) {
    std::string text;
    for (int a : axes)
        text += (text.empty() ? "" : ", ") + std::to_string(a);
    return "(" + text + ")";
}

// Folds, checkpoint, configuration and mirroring of an nnU-Net folder: chosen here, applied by
// reloading the model (which drops the segmentation and segments again).
void drawNnunetChoices(Workspace& workspace, const Model& model) {
    const NnunetSelection* selection = model.nnunetSelection();
    if (!selection || !ImGui::TreeNodeEx("nnU-Net prediction", ImGuiTreeNodeFlags_DefaultOpen)) return;
    static const Model* editing = nullptr;
    static NnunetOptions pending;
    if (editing != &model) {
        editing = &model;
        pending = selection->options;
    }
    const NnunetPlan& plan = *model.nnunetPlan();
    ImGui::TextDisabled("%s, %s, %s", plan.datasetName.c_str(), plan.trainer.c_str(), plan.plansName.c_str());
    if (selection->configurations.size() > 1) {
        const auto it =
            std::find(selection->configurations.begin(), selection->configurations.end(), pending.configuration);
        int chosen = it == selection->configurations.end() ? 0 : int(it - selection->configurations.begin());
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (comboList("##configuration", chosen, selection->configurations)) {
            pending.configuration = selection->configurations[size_t(chosen)];
            pending.folds.clear(); // every fold of that configuration
        }
    } else {
        ImGui::Text("configuration %s", plan.configuration.c_str());
    }
    if (selection->checkpointNames.size() > 1) {
        const auto it =
            std::find(selection->checkpointNames.begin(), selection->checkpointNames.end(), pending.checkpointName);
        int chosen = it == selection->checkpointNames.end() ? 0 : int(it - selection->checkpointNames.begin());
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (comboList("##checkpoint", chosen, selection->checkpointNames))
            pending.checkpointName = selection->checkpointNames[size_t(chosen)];
    }
    const bool sameConfiguration = pending.configuration == selection->options.configuration;
    if (sameConfiguration) {
        ImGui::TextUnformatted("Folds (their logits averaged):");
        for (const auto& fold : selection->availableFolds) {
            auto at = std::find(pending.folds.begin(), pending.folds.end(), fold);
            bool on = at != pending.folds.end();
            ImGui::SameLine();
            if (ImGui::Checkbox(fold.c_str(), &on)) {
                if (on) {
                    pending.folds.push_back(fold);
                    std::sort(pending.folds.begin(), pending.folds.end());
                } else {
                    pending.folds.erase(at);
                }
            }
        }
    }
    size_t passes = 1;
    if (selection->mirrorAxes && !selection->mirrorAxes->empty()) {
        passes = size_t(1) << selection->mirrorAxes->size();
        ImGui::Checkbox("Mirroring", &pending.mirroring);
        ImGui::SameLine();
        ImGui::TextDisabled("test-time flips over axes %s: %zu passes per window",
                            axesText(*selection->mirrorAxes).c_str(), passes);
        if (!pending.mirroring) passes = 1;
    } else {
        ImGui::TextDisabled("no mirroring (the checkpoint allows none)");
    }
    const size_t folds = pending.folds.empty() ? selection->availableFolds.size() : pending.folds.size();
    ImGui::TextDisabled("%zu network pass(es) per window (%zu fold(s) x %zu)", folds * passes, folds, passes);
    const bool changed = pending.folds != selection->options.folds ||
                         pending.mirroring != selection->options.mirroring ||
                         pending.checkpointName != selection->options.checkpointName || !sameConfiguration;
    if (!changed) {
        ImGui::TreePop();
        return;
    }
    const bool noFold = sameConfiguration && pending.folds.empty();
    ImGui::BeginDisabled(noFold || workspace.loadingModel());
    if (ImGui::Button("Apply (reload the model)")) {
        workspace.openModel(sameConfiguration ? selection->folder : selection->datasetFolder, pending);
        editing = nullptr;
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Revert")) pending = selection->options;
    if (noFold) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "Choose at least one fold.");
    ImGui::TreePop();
}

void drawClasses(Workspace& workspace) {
    const auto& segmentation = workspace.segmentation();
    const ModelCard& card = workspace.model()->model->card();
    ViewerState& state = workspace.viewer();
    if (!segmentation) {
        ImGui::TextDisabled(workspace.study() ? "Not segmented yet." : "Open a study to segment it.");
        return;
    }
    const Geometry& g = segmentation->labels.geometry;
    const double voxelMl = g.spacing.x * g.spacing.y * g.spacing.z / 1000.0;
    const std::vector<size_t>& counts = workspace.classVoxelCounts();
    if (ImGui::BeginTable("classes", 3, ImGuiTableFlags_SizingStretchProp)) {
        for (size_t c = 1; c < segmentation->classNames.size(); ++c) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(int(c));
            bool visible = c >= state.classVisible.size() || state.classVisible[c];
            if (ImGui::Checkbox("##visible", &visible) && c < state.classVisible.size())
                state.classVisible[c] = visible;
            ImGui::SameLine();
            const auto rgb = c < card.classes.size() ? card.classes[c].color : defaultClassColor(c);
            ImGui::ColorButton("##color", toColor(rgb), ImGuiColorEditFlags_NoTooltip, ImVec2(14, 14));
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(segmentation->classNames[c].c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%.2f ml", double(counts[c]) * voxelMl);
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
}

void drawDisplay(Workspace& workspace) {
    ViewerState& state = workspace.viewer();
    const auto& segmentation = workspace.segmentation();
    ImGui::Checkbox("Labels", &state.showSegmentation);
    ImGui::SameLine();
    ImGui::Checkbox("Outline##segmentation", &state.segmentationOutline);
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::SliderFloat("##segmentationOpacity", &state.segmentationOpacity, 0.0f, 1.0f, "opacity %.2f");
    ImGui::Checkbox("Probability of", &state.showProbability);
    if (segmentation) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-FLT_MIN);
        const int classes = int(segmentation->classNames.size());
        state.probabilityClass = std::clamp(state.probabilityClass, 0, classes - 1);
        if (ImGui::BeginCombo("##probabilityClass", segmentation->classNames[size_t(state.probabilityClass)].c_str())) {
            for (int c = 0; c < classes; ++c) {
                if (ImGui::Selectable(segmentation->classNames[size_t(c)].c_str(), c == state.probabilityClass)) {
                    state.probabilityClass = c;
                }
            }
            ImGui::EndCombo();
        }
    }
    if (state.showProbability) {
        ImGui::SetNextItemWidth(-FLT_MIN);
        if (ImGui::BeginCombo("##colormap", render::colormapName(render::Colormap(state.probabilityColormap)))) {
            for (int m = 0; m < render::kColormapCount; ++m) {
                if (ImGui::Selectable(render::colormapName(render::Colormap(m)), m == state.probabilityColormap)) {
                    state.probabilityColormap = m;
                }
            }
            ImGui::EndCombo();
        }
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##probabilityOpacity", &state.probabilityOpacity, 0.0f, 1.0f, "opacity %.2f");
        ImGui::SetNextItemWidth(-FLT_MIN);
        ImGui::SliderFloat("##probabilityThreshold", &state.probabilityThreshold, 0.0f, 1.0f, "hide below %.2f");
    }
}

void drawLayers(const LoadedModel& loaded) {
    static std::string filter;
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::InputTextWithHint("##filter", "filter layers", &filter);
    const auto& s = loaded.layerInputShape;
    if (s.size() == 4) {
        ImGui::TextDisabled("output shapes for input [1, %lld, %lld, %lld, %lld]", (long long)s[0], (long long)s[1],
                            (long long)s[2], (long long)s[3]);
    }
    ImGui::BeginChild("layers", ImVec2(0, 220), true, ImGuiWindowFlags_HorizontalScrollbar);
    for (const LayerInfo& layer : loaded.layers) {
        if (!filter.empty() && layer.path.find(filter) == std::string::npos &&
            layer.type.find(filter) == std::string::npos)
            continue;
        std::string shape;
        for (size_t n = 1; n < layer.shape.size(); ++n) {
            if (n > 1) shape += 'x';
            shape += std::to_string(layer.shape[n]);
        }
        if (layer.capturable) {
            ImGui::Text("%s  %s  %s", layer.path.c_str(), layer.type.c_str(), shape.c_str());
        } else {
            ImGui::TextDisabled("%s  %s  (%s)", layer.path.c_str(), layer.type.c_str(), layer.note.c_str());
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", layer.path.c_str());
    }
    ImGui::EndChild();
}

} // namespace

void drawModelPanel(Workspace& workspace) {
    const auto& loaded = workspace.model();
    if (!loaded) {
        ImGui::TextWrapped("No model. Use File > Open model..., or drop a TorchScript file (.pt, .ts) or a "
                           "MONAI bundle folder on the window.");
        return;
    }
    drawCard(*loaded, workspace);
    drawNnunetChoices(workspace, *loaded->model);
    ImGui::Separator();
    const bool busy = workspace.segmenting();
    ImGui::BeginDisabled(busy || !workspace.study());
    if (ImGui::Button(busy ? "Segmenting..." : "Segment")) workspace.segment();
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::Checkbox("automatically", &workspace.autoSegment);
    if (ImGui::CollapsingHeader("Classes", ImGuiTreeNodeFlags_DefaultOpen)) drawClasses(workspace);
    if (ImGui::CollapsingHeader("Overlay", ImGuiTreeNodeFlags_DefaultOpen)) drawDisplay(workspace);
    if (ImGui::CollapsingHeader("Layers")) drawLayers(*loaded);
}

} // namespace segxai::app
