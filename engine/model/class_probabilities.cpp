#include "engine/model/class_probabilities.h"

#include "engine/core/error.h"
#include "engine/core/half.h"
#include "engine/core/parallel.h"
#include "engine/core/resample.h"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace segxai {
namespace {

constexpr uint16_t kNoClass = 0xffff;

} // namespace

ClassProbabilities::ClassProbabilities(const Geometry& grid, size_t classes) : m_grid(grid), m_classes(classes) {
    if (classes >= kNoClass) throw Error(fmt::format("{} classes: at most {} are supported", classes, kNoClass - 1));
    const size_t voxels = grid.voxelCount();
    if (dense()) {
        m_dense = parallelFilled(classes * voxels, 0.0f);
    } else {
        m_class = parallelFilled(kKeptPerVoxel * voxels, kNoClass);
        m_value = parallelFilled(kKeptPerVoxel * voxels, uint16_t(0));
    }
}

float ClassProbabilities::at(size_t classIndex, size_t voxel) const {
    if (dense()) return m_dense[classIndex * m_grid.voxelCount() + voxel];
    const size_t first = voxel * kKeptPerVoxel;
    for (size_t s = first; s < first + kKeptPerVoxel; ++s)
        if (m_class[s] == classIndex) return halfToFloat(m_value[s]);
    return 0.0f;
}

void ClassProbabilities::read(size_t classIndex, size_t first, size_t count, float* out) const {
    if (dense()) {
        std::copy_n(m_dense.begin() + ptrdiff_t(classIndex * m_grid.voxelCount() + first), count, out);
        return;
    }
    for (size_t v = 0; v < count; ++v)
        out[v] = at(classIndex, first + v);
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

namespace {

// `values` laid out [plane][voxel][block] (voxels in `grid`'s order), mirrored along `flip`.
template <typename Values>
void mirrorVoxels(Values& values, const Geometry& grid, size_t planes, size_t block, const FlipAxes& flip) {
    Values out(values.size());
    const size_t plane = grid.voxelCount() * block;
    parallelFor(grid.dims[2], [&](int64_t k0, int64_t k1) {
        for (size_t p = 0; p < planes; ++p)
            for (int64_t k = k0; k < k1; ++k)
                for (int64_t j = 0; j < grid.dims[1]; ++j)
                    for (int64_t i = 0; i < grid.dims[0]; ++i) {
                        const size_t to = p * plane + grid.linearIndex(i, j, k) * block;
                        const size_t from = p * plane + mirroredIndex(grid, i, j, k, flip) * block;
                        std::copy_n(values.begin() + ptrdiff_t(from), block, out.begin() + ptrdiff_t(to));
                    }
    });
    values.swap(out);
}

} // namespace

void ClassProbabilities::mirror(const FlipAxes& flip) {
    if (!anyFlip(flip)) return;
    if (dense()) {
        mirrorVoxels(m_dense, m_grid, m_classes, 1, flip);
    } else {
        mirrorVoxels(m_class, m_grid, 1, kKeptPerVoxel, flip);
        mirrorVoxels(m_value, m_grid, 1, kKeptPerVoxel, flip);
    }
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

ClassProbabilities ClassProbabilities::resampledLinear(const Geometry& target, LabelVolume& labels) const {
    ClassProbabilities out(target, m_classes);
    labels = LabelVolume(target, labels.name);
    const glm::dmat4 map = targetToSource(m_grid, target);
    constexpr size_t kMost = 8 * kKeptPerVoxel;
    parallelFor(target.dims[2], [&](int64_t k0, int64_t k1) {
        std::array<uint16_t, kMost> classes{};
        std::array<float, kMost> values{};
        for (int64_t k = k0; k < k1; ++k)
            for (int64_t j = 0; j < target.dims[1]; ++j)
                for (int64_t i = 0; i < target.dims[0]; ++i) {
                    const LinearTaps taps = linearTaps(m_grid, glm::dvec3(map * glm::dvec4(i, j, k, 1.0)));
                    // The classes the taps keep, each with its interpolated probability.
                    size_t n = 0;
                    for (int t = 0; t < taps.count; ++t)
                        for (size_t c = 0; c < m_classes && c < kKeptPerVoxel; ++c) {
                            const size_t slot = taps.voxel[size_t(t)] * kKeptPerVoxel + c;
                            const uint16_t cls = dense() ? uint16_t(c) : m_class[slot];
                            if (cls == kNoClass) continue;
                            const float p = dense() ? m_dense[c * m_grid.voxelCount() + taps.voxel[size_t(t)]]
                                                    : halfToFloat(m_value[slot]);
                            const auto known = std::find(classes.begin(), classes.begin() + ptrdiff_t(n), cls);
                            if (known == classes.begin() + ptrdiff_t(n)) {
                                classes[n] = cls;
                                values[n++] = float(taps.weight[size_t(t)] * p);
                            } else {
                                values[size_t(known - classes.begin())] += float(taps.weight[size_t(t)] * p);
                            }
                        }
                    const size_t voxel = target.linearIndex(i, j, k);
                    uint16_t best = 0;
                    float bestValue = 0.0f;
                    for (size_t e = 0; e < n; ++e) {
                        if (values[e] > bestValue || (values[e] == bestValue && classes[e] < best)) {
                            best = classes[e];
                            bestValue = values[e];
                        }
                        if (out.dense())
                            out.m_dense[classes[e] * target.voxelCount() + voxel] = values[e];
                        else
                            out.keep(voxel, classes[e], values[e]);
                    }
                    labels.labels[voxel] = best;
                }
    });
    return out;
}

size_t ClassProbabilities::bytes() const {
    return m_dense.size() * sizeof(float) + (m_class.size() + m_value.size()) * sizeof(uint16_t);
}

} // namespace segxai
