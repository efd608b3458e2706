#pragma once
#include "app/gui/loaded_study.h"
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

    const render::VolumeTexture* channel(int index) const;
    const render::VolumeTexture* groundTruth() const;
    const render::LabelColorTable& labelColors() const { return m_labelColors; }

private:
    uint64_t m_generation = 0;
    std::vector<std::unique_ptr<render::VolumeTexture>> m_channels;
    render::VolumeTexture m_groundTruth;
    render::LabelColorTable m_labelColors;
    bool m_linear = true;
};

} // namespace segxai::app
