#include "app/gui/views/gpu_scene.h"

#include "app/gui/state/workspace.h"
#include "engine/core/log.h"
#include "render/colormap.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <glm/gtc/matrix_transform.hpp>

namespace segxai::app {
namespace {

glm::ivec3 textureDims(const Geometry& g) {
    return {int(g.dims[0]), int(g.dims[1]), int(g.dims[2])};
}

} // namespace

void GpuScene::sync(const std::shared_ptr<const LoadedStudy>& loaded, uint64_t generation) {
    if (generation == m_generation) return;
    m_generation = generation;
    ++m_revision;
    m_channels.clear();
    m_groundTruth.clear();
    m_studySource = loaded;
    if (!loaded) return;
    m_studyStaged = std::chrono::steady_clock::now();
    const Study& study = *loaded->study;
    for (const Volume& channel : study.channels) {
        auto texture = std::make_unique<render::VolumeTexture>();
        texture->setLinear(m_linear);
        texture->stageScalars(textureDims(channel.geometry), channel.voxels.data(),
                              channel.geometry.worldToVoxelMatrix(), generation);
        m_channels.push_back(std::move(texture));
    }
    if (study.groundTruth) {
        const LabelVolume& gt = *study.groundTruth;
        m_groundTruth.stageLabels(textureDims(gt.geometry), gt.labels.data(), gt.geometry.worldToVoxelMatrix(),
                                  generation);
    }
    // Ground truth in ITK-SNAP's palette, but label 1 green: a model's first class is
    // usually drawn red, and the two must stay apart.
    auto palette = render::labelPalette(std::clamp(loaded->maxLabel + 1, 256, 16384));
    std::swap(palette[1], palette[2]);
    m_labelColors.upload(palette);
    m_truthColour = palette[1];
}

void GpuScene::setLinear(bool linear) {
    if (linear == m_linear) return;
    m_linear = linear;
    ++m_revision;
    for (auto& texture : m_channels)
        texture->setLinear(linear);
}

void GpuScene::syncSegmentation(const std::shared_ptr<const Segmentation>& segmentation, uint64_t generation,
                                const ModelCard* card, const ViewerState& state,
                                const std::shared_ptr<const std::vector<glm::u8vec4>>& shellNormals) {
    if (generation != m_segmentationGeneration) {
        m_segmentationGeneration = generation;
        ++m_revision;
        m_segmentation.clear();
        m_probability.clear();
        m_probabilityClass = -1;
        m_uploadedColors.clear();
        m_segmentationSource = segmentation;
        m_normalsSource.reset();
        if (segmentation) {
            const LabelVolume& labels = segmentation->labels;
            m_segmentationGrid = labels.geometry;
            m_segmentationStaged = std::chrono::steady_clock::now();
            if (shellNormals && shellNormals->size() == labels.labels.size()) {
                m_normalsSource = shellNormals;
                m_segmentation.stageLabels(textureDims(labels.geometry), labels.labels.data(),
                                           labels.geometry.worldToVoxelMatrix(), generation, shellNormals->data());
            } else {
                m_segmentation.uploadLabels(textureDims(labels.geometry), labels.labels.data(),
                                            labels.geometry.worldToVoxelMatrix(), generation, true);
            }
        }
    }
    if (!segmentation) return;
    // Class colours from the card; hidden classes (and the background) transparent.
    std::vector<glm::u8vec4> colors(segmentation->classNames.size());
    for (size_t c = 0; c < colors.size(); ++c) {
        const auto rgb = card && c < card->classes.size() ? card->classes[c].color : defaultClassColor(c);
        const bool visible = c > 0 && (c >= state.classVisible.size() || state.classVisible[c]);
        colors[c] = glm::u8vec4(rgb[0], rgb[1], rgb[2], visible ? 255 : 0);
        if (c > 0 && c < state.segmentShading.size()) {
            const glm::vec3 shade =
                render::colormapColor(render::Colormap::Inferno, std::clamp(state.segmentShading[c], 0.0f, 1.0f));
            colors[c] = glm::u8vec4(glm::u8vec3(glm::round(shade * 255.0f)), visible ? 255 : 0);
        }
    }
    if (colors != m_uploadedColors) {
        ++m_revision;
        m_segmentationColors.upload(colors);
        m_uploadedColors = colors;
    }
    const int wanted = state.showProbability ? state.probabilityClass : -1;
    if (wanted != m_probabilityClass) {
        m_probabilityClass = wanted;
        ++m_revision;
        m_probability.clear();
        if (wanted >= 0 && wanted < int(segmentation->probabilities.size())) {
            const Volume p = segmentation->probabilities.volume(size_t(wanted));
            m_probability.uploadScalars(textureDims(p.geometry), p.voxels.data(), p.geometry.worldToVoxelMatrix(),
                                        generation);
        }
    }
}

void GpuScene::syncExplanations(const Comparison& comparison) {
    // Each texture holds one generation of its slot's map; nothing shown: no texture. A map on
    // a CT's grid is 420 MB: staged like the study (pumpUploads), its source held meanwhile.
    auto sync = [&](int slot, uint64_t generation, const Volume* v, std::shared_ptr<const void> source) {
        render::VolumeTexture& texture = m_maps[size_t(slot)];
        if (!v) {
            if (texture.valid() || texture.staging()) ++m_revision;
            texture.clear();
            m_mapSources[size_t(slot)].reset();
        } else if (texture.stageScalars(textureDims(v->geometry), v->voxels.data(), v->geometry.worldToVoxelMatrix(),
                                        generation)) {
            m_mapSources[size_t(slot)] = std::move(source);
            ++m_revision;
        }
    };
    for (int panel = 0; panel < kMaxPanels; ++panel) {
        const auto shown = comparison.shownMap(panel);
        sync(panel, comparison.shownGeneration(panel), shown ? &shown->map.values : nullptr,
             shown ? comparison.panels()[size_t(panel)].result : nullptr);
    }
    const auto& difference = comparison.difference();
    sync(kMaxPanels, comparison.differenceGeneration(), difference ? &difference->values : nullptr, difference);
}

void GpuScene::syncCertainty(const std::shared_ptr<const Volume>& certainty) {
    if (certainty == m_certaintySource) return;
    m_certaintySource = certainty;
    ++m_revision;
    m_certainty.clear();
    if (certainty) {
        m_certainty.uploadScalars(textureDims(certainty->geometry), certainty->voxels.data(),
                                  certainty->geometry.worldToVoxelMatrix(), m_revision);
    }
}

void GpuScene::syncSelection(const std::shared_ptr<const InstanceSet>& instances, int32_t selected) {
    if (instances.get() == m_selectionSet && selected == m_selected) return;
    m_selectionSet = instances.get();
    m_selected = selected;
    ++m_revision;
    m_selection.clear();
    m_selectionMask.reset();
    m_selectionCentre.reset();
    const int position = instances ? instances->positionOf(selected) : -1;
    if (position < 0 || !m_segmentationSource) return;
    const Instance& instance = instances->instances[size_t(position)];
    m_selectionCentre = m_segmentationGrid.voxelToWorld(instance.centroid);
    // The structure's bounding box only (the views read nothing outside a texture), its mask
    // made off this thread and uploaded a slab per frame (pumpUploads): a structure spanning a
    // CT's whole grid took a frame 0.9 s.
    m_selectionMask = std::make_unique<SelectionMaskBuild>(instances, m_segmentationGrid, instance);
    if (!m_selectionColors.valid()) m_selectionColors.upload({{0, 0, 0, 0}, kPickColour});
}

bool GpuScene::uploading() const {
    return std::any_of(m_channels.begin(), m_channels.end(), [](const auto& t) { return t->staging(); }) ||
           m_groundTruth.staging() || m_segmentation.staging() || m_selectionMask || m_selection.staging() ||
           std::any_of(m_maps.begin(), m_maps.end(), [](const auto& t) { return t.staging(); });
}

void GpuScene::pumpUploads(double seconds) {
    const auto start = std::chrono::steady_clock::now();
    const auto left = [&] {
        return seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    const auto logDone = [](const char* what, std::chrono::steady_clock::time_point staged) {
        logInfo("{} uploaded to the GPU in {:.0f} ms (a part each frame)", what,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - staged).count());
    };
    // A texture is drawn once complete: the views redraw then.
    const auto pump = [&](render::VolumeTexture& texture) {
        if (!texture.staging() || left() <= 0.0) return false;
        const bool completed = texture.uploadSome(left());
        if (completed) ++m_revision;
        return completed;
    };
    bool studyStaging = false;
    for (auto& texture : m_channels) {
        pump(*texture);
        studyStaging = studyStaging || texture->staging();
    }
    pump(m_groundTruth);
    if (m_studyStaged && !studyStaging && !m_groundTruth.staging()) {
        logDone("study", *m_studyStaged);
        m_studyStaged.reset();
        m_studySource.reset(); // the workspace keeps its own
    }
    if (pump(m_segmentation)) {
        logDone("segmentation", m_segmentationStaged);
        m_normalsSource.reset(); // the workspace keeps its own
    }
    if (m_selectionMask && m_selectionMask->ready() && !m_selection.valid() && !m_selection.staging()) {
        m_selection.stageLabels(m_selectionMask->dims(), m_selectionMask->mask().data(), m_selectionMask->worldToBox(),
                                ++m_selectionGeneration);
    }
    if (pump(m_selection)) m_selectionMask.reset();
    for (render::VolumeTexture& map : m_maps)
        pump(map);
}

void GpuScene::syncTransfer(const render::TransferFunction& function) {
    const auto table = function.table();
    if (table == m_transferTable && m_transfer.valid()) return;
    m_transferTable = table;
    m_transfer.update(function);
    ++m_revision;
}

const render::VolumeTexture* GpuScene::selection() const {
    return m_selection.valid() ? &m_selection : nullptr;
}

const render::VolumeTexture* GpuScene::map(int panel) const {
    if (panel < 0 || panel > kMaxPanels) return nullptr;
    return m_maps[size_t(panel)].valid() ? &m_maps[size_t(panel)] : nullptr;
}

const render::VolumeTexture* GpuScene::segmentation() const {
    return m_segmentation.valid() ? &m_segmentation : nullptr;
}

const render::VolumeTexture* GpuScene::probability() const {
    return m_probability.valid() ? &m_probability : nullptr;
}

const render::VolumeTexture* GpuScene::channel(int index) const {
    if (index < 0 || index >= int(m_channels.size())) return nullptr;
    return m_channels[size_t(index)].get();
}

const render::VolumeTexture* GpuScene::groundTruth() const {
    return m_groundTruth.valid() ? &m_groundTruth : nullptr;
}

} // namespace segxai::app
