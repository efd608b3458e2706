#include "app/gui/gpu_scene.h"

#include "engine/log.h"
#include "render/colormap.h"

#include <chrono>

#include <algorithm>

namespace segxai::app {
namespace {

glm::ivec3 textureDims(const Geometry& g) { return {int(g.dims[0]), int(g.dims[1]), int(g.dims[2])}; }

} // namespace

void GpuScene::sync(const std::shared_ptr<const LoadedStudy>& loaded, uint64_t generation) {
    if (generation == m_generation) return;
    m_generation = generation;
    m_channels.clear();
    m_groundTruth.clear();
    if (!loaded) return;
    const auto start = std::chrono::steady_clock::now();
    const Study& study = *loaded->study;
    for (const Volume& channel : study.channels) {
        auto texture = std::make_unique<render::VolumeTexture>();
        texture->setLinear(m_linear);
        texture->uploadScalars(textureDims(channel.geometry), channel.voxels.data(),
                               channel.geometry.worldToVoxelMatrix(), generation);
        m_channels.push_back(std::move(texture));
    }
    if (study.groundTruth) {
        const LabelVolume& gt = *study.groundTruth;
        m_groundTruth.uploadLabels(textureDims(gt.geometry), gt.labels.data(),
                                   gt.geometry.worldToVoxelMatrix(), generation);
    }
    m_labelColors.upload(render::labelPalette(std::clamp(loaded->maxLabel + 1, 256, 16384)));
    logInfo("study uploaded to the GPU in {:.0f} ms",
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

void GpuScene::setLinear(bool linear) {
    if (linear == m_linear) return;
    m_linear = linear;
    for (auto& texture : m_channels) texture->setLinear(linear);
}

const render::VolumeTexture* GpuScene::channel(int index) const {
    if (index < 0 || index >= int(m_channels.size())) return nullptr;
    return m_channels[size_t(index)].get();
}

const render::VolumeTexture* GpuScene::groundTruth() const {
    return m_groundTruth.valid() ? &m_groundTruth : nullptr;
}

} // namespace segxai::app
