#pragma once
#include "app/gui/loaded_study.h"
#include "app/gui/viewer_state.h"
#include "engine/model_card.h"
#include "engine/segmentation.h"
#include "render/slice_renderer.h"
#include "render/volume_texture.h"

#include <memory>
#include <vector>

namespace segxai::app {

// GPU mirrors of the current study: a 3D texture per channel, the ground-truth labels and
// their colours. sync() uploads only what a newer study generation changed.
class GpuScene {
public:
    void sync(const std::shared_ptr<const LoadedStudy>& loaded, uint64_t generation);
    void setLinear(bool linear);
    // The segmentation's labels, class colours (hidden classes transparent) and the
    // probability of the displayed class. Uploads only what changed.
    void syncSegmentation(const std::shared_ptr<const Segmentation>& segmentation, uint64_t generation,
                          const ModelCard* card, const ViewerState& state);

    const render::VolumeTexture* channel(int index) const;
    const render::VolumeTexture* groundTruth() const;
    const render::LabelColorTable& labelColors() const { return m_labelColors; }
    const render::VolumeTexture* segmentation() const;
    const render::LabelColorTable& segmentationColors() const { return m_segmentationColors; }
    const render::VolumeTexture* probability() const;
    // The displayed explanation map (uploaded when the set or the choice changes).
    void syncExplanation(const std::shared_ptr<const struct ExplanationSet>& set, uint64_t generation, int index, int map);
    const render::VolumeTexture* explanation() const;

private:
    uint64_t m_generation = 0;
    std::vector<std::unique_ptr<render::VolumeTexture>> m_channels;
    render::VolumeTexture m_groundTruth;
    render::LabelColorTable m_labelColors;
    bool m_linear = true;

    uint64_t m_segmentationGeneration = 0;
    render::VolumeTexture m_segmentation;
    render::LabelColorTable m_segmentationColors;
    std::vector<glm::u8vec4> m_uploadedColors;
    render::VolumeTexture m_probability;
    int m_probabilityClass = -1;
    render::VolumeTexture m_explanation;
    uint64_t m_explanationGeneration = 0;
    std::pair<int, int> m_explanationChoice{-1, -1};
};

} // namespace segxai::app
