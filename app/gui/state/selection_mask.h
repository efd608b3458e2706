#pragma once
#include "engine/core/geometry.h"
#include "engine/explain/instances.h"

#include <atomic>
#include <cstdint>
#include <future>
#include <glm/glm.hpp>
#include <memory>
#include <vector>

namespace segxai::app {

// The picked structure as a mask over its bounding box (1 inside, 0 elsewhere; x fastest),
// from the components of `instances` on `grid`. Stops early, with a partial mask, once
// `cancelled` is set.
std::vector<uint16_t> selectionMask(const InstanceSet& instances, const Geometry& grid, const Instance& instance,
                                    const std::atomic<bool>& cancelled);

// selectionMask() built on a thread of its own: a structure spanning a body CT (100 M voxels)
// takes 0.6 s, which the render thread must not wait for. The destructor stops the build and
// waits for it.
class SelectionMaskBuild {
public:
    SelectionMaskBuild(std::shared_ptr<const InstanceSet> instances, const Geometry& grid, const Instance& instance);
    ~SelectionMaskBuild();
    SelectionMaskBuild(const SelectionMaskBuild&) = delete;
    SelectionMaskBuild& operator=(const SelectionMaskBuild&) = delete;

    bool ready() const;
    // Once ready(): the mask, its box's size and the world-to-box-voxel matrix.
    const std::vector<uint16_t>& mask() const { return m_mask; }
    const glm::ivec3& dims() const { return m_dims; }
    const glm::dmat4& worldToBox() const { return m_worldToBox; }

private:
    std::atomic<bool> m_cancelled{false};
    std::vector<uint16_t> m_mask;
    glm::ivec3 m_dims{0};
    glm::dmat4 m_worldToBox{1.0};
    std::future<void> m_task;
};

} // namespace segxai::app
