#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/loaded_study.h"
#include "app/gui/state/selection_mask.h"
#include "app/gui/state/viewer_state.h"
#include "engine/explain/instances.h"
#include "engine/model/model_card.h"
#include "engine/model/segmentation.h"
#include "render/slice_renderer.h"
#include "render/transfer_function.h"
#include "render/volume_texture.h"

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// The picked structure's outline and shell: magenta, a colour no colour map uses (yellow was
// taken for part of jet, hot and inferno).
constexpr glm::u8vec4 kPickColour{255, 64, 255, 255};

// GPU mirrors of the current study: a 3D texture per channel, the ground-truth labels and
// their colours. sync() uploads only what a newer study generation changed. The large
// volumes (the study's channels and ground truth, the segmentation, the picked structure, the
// panels' maps) go up a slab of slices per frame (pumpUploads), each drawn once complete: a
// body CT in one go stalled a frame for 1.1-1.3 s.
class GpuScene {
public:
    void sync(const std::shared_ptr<const LoadedStudy>& loaded, uint64_t generation);
    void setLinear(bool linear);
    // Increases whenever anything on the GPU changed (views compare it to skip re-rendering).
    uint64_t revision() const { return m_revision; }
    // The segmentation's labels, class colours (hidden classes transparent) and the
    // probability of the displayed class. Uploads only what changed. `shellNormals`: the labels'
    // shell normals when computed already (one per voxel), else computed here.
    void syncSegmentation(const std::shared_ptr<const Segmentation>& segmentation, uint64_t generation,
                          const ModelCard* card, const ViewerState& state,
                          const std::shared_ptr<const std::vector<glm::u8vec4>>& shellNormals = nullptr);

    const render::VolumeTexture* channel(int index) const;
    const render::VolumeTexture* groundTruth() const;
    const render::LabelColorTable& labelColors() const { return m_labelColors; }
    // Colours as drawn: ground-truth label 1, and each class of the segmentation.
    glm::u8vec4 truthColour() const { return m_truthColour; }
    glm::u8vec4 classColour(size_t c) const {
        return c < m_uploadedColors.size() ? m_uploadedColors[c] : glm::u8vec4(0);
    }
    const render::VolumeTexture* segmentation() const;
    const render::LabelColorTable& segmentationColors() const { return m_segmentationColors; }
    const render::VolumeTexture* probability() const;
    // The shown map of every comparison panel, and the difference view (uploaded when a
    // panel's result or its shown map changes).
    void syncExplanations(const Comparison& comparison);
    // The ensemble's certainty (UncertaintyWork::Result::certainty; null: none), which fades
    // explanation maps where the ensemble is unsure.
    void syncCertainty(const std::shared_ptr<const Volume>& certainty);
    const render::VolumeTexture* certainty() const { return m_certainty.valid() ? &m_certainty : nullptr; }
    // The picked structure, outlined in every view.
    void syncSelection(const std::shared_ptr<const InstanceSet>& instances, int32_t selected);
    const render::VolumeTexture* selection() const;
    const render::LabelColorTable& selectionColors() const { return m_selectionColors; }
    // The picked structure's centre (world), when one is picked.
    const std::optional<glm::dvec3>& selectionCentre() const { return m_selectionCentre; }
    // Sends the staged volumes' next slices for about `seconds` (call once a frame).
    void pumpUploads(double seconds);
    // Whether a volume is still on its way to the GPU (its views are not final yet).
    bool uploading() const;
    // The 3D view's transfer function (re-uploaded when it changed).
    void syncTransfer(const render::TransferFunction& function);
    const render::TransferTexture& transfer() const { return m_transfer; }
    // Panel 0..kMaxPanels-1, or kMaxPanels for the difference view.
    const render::VolumeTexture* map(int panel) const;

private:
    uint64_t m_generation = 0;
    uint64_t m_revision = 0;
    // What the staged uploads read, held until they are done.
    std::shared_ptr<const LoadedStudy> m_studySource;
    std::optional<std::chrono::steady_clock::time_point> m_studyStaged;
    std::shared_ptr<const Segmentation> m_segmentationSource;
    std::shared_ptr<const std::vector<glm::u8vec4>> m_normalsSource;
    std::chrono::steady_clock::time_point m_segmentationStaged;
    std::vector<std::unique_ptr<render::VolumeTexture>> m_channels;
    render::VolumeTexture m_groundTruth;
    render::LabelColorTable m_labelColors;
    bool m_linear = true;
    glm::u8vec4 m_truthColour{0, 200, 0, 255};

    uint64_t m_segmentationGeneration = 0;
    render::VolumeTexture m_segmentation;
    Geometry m_segmentationGrid;
    render::LabelColorTable m_segmentationColors;
    std::vector<glm::u8vec4> m_uploadedColors;
    render::VolumeTexture m_probability;
    int m_probabilityClass = -1;
    std::array<render::VolumeTexture, kMaxPanels + 1> m_maps;
    std::array<std::shared_ptr<const void>, kMaxPanels + 1> m_mapSources; // what the maps' staging reads
    render::VolumeTexture m_certainty;
    std::shared_ptr<const Volume> m_certaintySource; // held: its address names what is uploaded
    render::TransferTexture m_transfer;
    std::vector<glm::u8vec4> m_transferTable;
    render::VolumeTexture m_selection;
    render::LabelColorTable m_selectionColors;
    const InstanceSet* m_selectionSet = nullptr;
    int32_t m_selected = 0;
    uint64_t m_selectionGeneration = 0;
    std::unique_ptr<SelectionMaskBuild> m_selectionMask; // until its texture is complete
    std::optional<glm::dvec3> m_selectionCentre;
};

} // namespace segxai::app
