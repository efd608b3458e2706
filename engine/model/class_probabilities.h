#pragma once
#include "engine/core/mirror.h"
#include "engine/core/uninitialized_vector.h"
#include "engine/core/volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace segxai {

// A segmentation's per-class probabilities on the study's grid, kept so that their memory does
// not grow with classes x voxels in float32:
// - up to kKeptPerVoxel classes: every class at every voxel, in float32 (as computed);
// - more classes: at each voxel the kKeptPerVoxel most probable classes whose probability
//   reaches kFloor, in half precision. A class not kept at a voxel reads 0 there. The most
//   probable class is always kept (its probability is at least 1 / classes, above the floor
//   for up to 1024 classes); a class left out has a probability below kFloor or below four
//   others at that voxel (so below 0.2).
// 16 bytes per voxel whatever the number of classes, against 4 bytes x classes (420 bytes
// for 105 classes).
class ClassProbabilities {
public:
    static constexpr size_t kKeptPerVoxel = 4;
    static constexpr float kFloor = 1.0f / 1024.0f;

    ClassProbabilities() = default;
    // Every class reads 0 at every voxel until set.
    ClassProbabilities(const Geometry& grid, size_t classes);

    size_t size() const { return m_classes; }
    bool empty() const { return m_classes == 0; }
    const Geometry& geometry() const { return m_grid; }
    // Every class at every voxel in float32 (few classes), or the most probable ones in half.
    bool dense() const { return m_classes <= kKeptPerVoxel; }

    float at(size_t classIndex, size_t voxel) const;
    float at(size_t classIndex, int64_t i, int64_t j, int64_t k) const {
        return at(classIndex, m_grid.linearIndex(i, j, k));
    }
    // Class `classIndex` at voxels first .. first + count - 1 into `out`.
    void read(size_t classIndex, size_t first, size_t count, float* out) const;
    // One class's map on the whole grid, in float32.
    Volume volume(size_t classIndex, const std::string& name = {}) const;

    // Offers class `classIndex`'s probability at every voxel (values in the grid's voxel
    // order). Each class is offered once, in any order. Safe to call for different classes
    // only one at a time.
    void offer(size_t classIndex, const std::vector<float>& values);
    // Sets every class's probability at one voxel (values[c] for c < size()). Different voxels
    // may be set from different threads.
    void setVoxel(size_t voxel, const float* values);
    // Class `classIndex` has probability `value` at every voxel, every other class 0.
    void fill(size_t classIndex, float value);

    // Onto `target` as resampleLinear() reads each class (0 outside this grid), and the most
    // probable class at each target voxel (the first of equals) into `labels` (on `target`).
    // Kept classes only: a class left out at a voxel counts as 0 there.
    ClassProbabilities resampledLinear(const Geometry& target, LabelVolume& labels) const;

    // Mirrors every class's map along `flip` of the grid, in place.
    void mirror(const FlipAxes& flip);

    // Memory held, in bytes.
    size_t bytes() const;

private:
    void keep(size_t voxel, uint16_t classIndex, float value);

    Geometry m_grid;
    size_t m_classes = 0;
    UninitializedVector<float> m_dense;    // dense: [class][voxel]
    UninitializedVector<uint16_t> m_class; // kept: [voxel][slot], kNoClass when the slot is free
    UninitializedVector<uint16_t> m_value; // kept: [voxel][slot], half precision
};

} // namespace segxai
