#include "app/gui/state/selection_mask.h"

#include <chrono>
#include <glm/gtc/matrix_transform.hpp>

namespace segxai::app {

std::vector<uint16_t> selectionMask(const InstanceSet& instances, const Geometry& grid, const Instance& instance,
                                    const std::atomic<bool>& cancelled) {
    const Index3 first = instance.first, size{instance.last[0] - first[0] + 1, instance.last[1] - first[1] + 1,
                                              instance.last[2] - first[2] + 1};
    std::vector<uint16_t> mask(size_t(size[0] * size[1] * size[2]), 0);
    size_t n = 0;
    for (int64_t k = 0; k < size[2] && !cancelled.load(std::memory_order_relaxed); ++k)
        for (int64_t j = 0; j < size[1]; ++j) {
            const int32_t* row = &instances.components[grid.linearIndex(first[0], first[1] + j, first[2] + k)];
            for (int64_t i = 0; i < size[0]; ++i)
                mask[n++] = row[i] == instance.id;
        }
    return mask;
}

SelectionMaskBuild::SelectionMaskBuild(std::shared_ptr<const InstanceSet> instances, const Geometry& grid,
                                       const Instance& instance) {
    const Index3 first = instance.first;
    m_dims = {int(instance.last[0] - first[0] + 1), int(instance.last[1] - first[1] + 1),
              int(instance.last[2] - first[2] + 1)};
    m_worldToBox = glm::translate(glm::dmat4(1.0), -glm::dvec3(double(first[0]), double(first[1]), double(first[2]))) *
                   grid.worldToVoxelMatrix();
    m_task = std::async(std::launch::async, [this, instances = std::move(instances), grid, instance] {
        m_mask = selectionMask(*instances, grid, instance, m_cancelled);
    });
}

SelectionMaskBuild::~SelectionMaskBuild() {
    m_cancelled = true;
    m_task.wait();
}

bool SelectionMaskBuild::ready() const {
    return m_task.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

} // namespace segxai::app
