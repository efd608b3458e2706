#include "engine/model/class_probabilities.h"

#include "engine/core/error.h"
#include "engine/core/half.h"
#include "engine/core/parallel.h"

#include <algorithm>
#include <fmt/format.h>

namespace segxai {
namespace {

constexpr uint16_t kNoClass = 0xffff;

} // namespace

ClassProbabilities::ClassProbabilities(const Geometry& grid, size_t classes) : m_grid(grid), m_classes(classes) {
    if (classes >= kNoClass) throw Error(fmt::format("{} classes: at most {} are supported", classes, kNoClass - 1));
    const size_t voxels = grid.voxelCount();
    if (dense()) {
        m_dense.assign(classes * voxels, 0.0f);
    } else {
        m_class.assign(kKeptPerVoxel * voxels, kNoClass);
        m_value.assign(kKeptPerVoxel * voxels, 0);
    }
}

float ClassProbabilities::at(size_t classIndex, size_t voxel) const {
    if (dense()) return m_dense[classIndex * m_grid.voxelCount() + voxel];
    const size_t first = voxel * kKeptPerVoxel;
    for (size_t s = first; s < first + kKeptPerVoxel; ++s)
        if (m_class[s] == classIndex) return halfToFloat(m_value[s]);
    return 0.0f;
}

Volume ClassProbabilities::volume(size_t classIndex, const std::string& name) const {
    Volume out(m_grid, name);
    const size_t voxels = m_grid.voxelCount();
    if (dense()) {
        std::copy_n(m_dense.begin() + ptrdiff_t(classIndex * voxels), voxels, out.voxels.begin());
        return out;
    }
    parallelFor(
        int64_t(voxels),
        [&](int64_t v0, int64_t v1) {
            for (int64_t v = v0; v < v1; ++v)
                out.voxels[size_t(v)] = at(classIndex, size_t(v));
        },
        1 << 16);
    return out;
}

void ClassProbabilities::keep(size_t voxel, uint16_t classIndex, float value) {
    if (value < kFloor) return;
    const size_t first = voxel * kKeptPerVoxel;
    size_t weakest = first;
    for (size_t s = first; s < first + kKeptPerVoxel; ++s) {
        if (m_class[s] == kNoClass) {
            weakest = s;
            break;
        }
        if (m_value[s] < m_value[weakest]) weakest = s; // positive halves order as their bits
    }
    const uint16_t half = floatToHalf(value);
    if (m_class[weakest] != kNoClass && half <= m_value[weakest]) return;
    m_class[weakest] = classIndex;
    m_value[weakest] = half;
}

void ClassProbabilities::offer(size_t classIndex, const std::vector<float>& values) {
    const size_t voxels = m_grid.voxelCount();
    if (values.size() != voxels) throw Error("class probabilities: a map of the wrong size");
    if (dense()) {
        std::copy(values.begin(), values.end(), m_dense.begin() + ptrdiff_t(classIndex * voxels));
        return;
    }
    parallelFor(
        int64_t(voxels),
        [&](int64_t v0, int64_t v1) {
            for (int64_t v = v0; v < v1; ++v)
                keep(size_t(v), uint16_t(classIndex), values[size_t(v)]);
        },
        1 << 16);
}

void ClassProbabilities::setVoxel(size_t voxel, const float* values) {
    if (dense()) {
        const size_t voxels = m_grid.voxelCount();
        for (size_t c = 0; c < m_classes; ++c)
            m_dense[c * voxels + voxel] = values[c];
        return;
    }
    const size_t first = voxel * kKeptPerVoxel;
    std::fill_n(m_class.begin() + ptrdiff_t(first), kKeptPerVoxel, kNoClass);
    std::fill_n(m_value.begin() + ptrdiff_t(first), kKeptPerVoxel, uint16_t(0));
    for (size_t c = 0; c < m_classes; ++c)
        keep(voxel, uint16_t(c), values[c]);
}

void ClassProbabilities::fill(size_t classIndex, float value) {
    const size_t voxels = m_grid.voxelCount();
    if (dense()) {
        std::fill(m_dense.begin(), m_dense.end(), 0.0f);
        std::fill_n(m_dense.begin() + ptrdiff_t(classIndex * voxels), voxels, value);
        return;
    }
    std::fill(m_class.begin(), m_class.end(), kNoClass);
    std::fill(m_value.begin(), m_value.end(), uint16_t(0));
    for (size_t v = 0; v < voxels; ++v)
        keep(v, uint16_t(classIndex), value);
}

size_t ClassProbabilities::bytes() const {
    return m_dense.size() * sizeof(float) + (m_class.size() + m_value.size()) * sizeof(uint16_t);
}

} // namespace segxai
