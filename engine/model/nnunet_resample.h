#pragma once
// nnU-Net's resampling (nnunetv2/preprocessing/resampling/default_resampling.py,
// tests/data/nnunet/PIPELINE.md 5.4 and 7.1), without Python: skimage.transform.resize with
// mode 'edge' and no anti-aliasing, which is scipy.ndimage.zoom(order, mode='nearest',
// grid_mode=True) followed by clipping to the input's range, and the order-0 (nearest)
// resampling along a separate, anisotropic axis. Arrays are in C order (last axis fastest) and
// in nnU-Net's internal axis order.
#include "engine/model/nnunet_plans.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace segxai {

using Shape3 = std::array<int64_t, 3>;

inline int64_t shapeVoxels(const Shape3& s) {
    return s[0] * s[1] * s[2];
}

// new_shape[i] = round(spacing[i] / target[i] * shape[i]) (Python's round, half to even).
Shape3 nnunetNewShape(const Shape3& shape, const std::array<double, 3>& spacing, const std::array<double, 3>& target);

// determine_do_sep_z_and_axis: the axis resampled separately (with order_z), or none.
std::optional<int> nnunetSeparateAxis(const NnunetResampling& r, const std::array<double, 3>& current,
                                      const std::array<double, 3>& target);

// One channel from `shape` to `newShape` as resample_data_or_seg does it for data (not labels):
// in double, spline order `order` in-plane (all axes when `separate` is none) with the result
// clipped to the input's range (per slice along the separate axis), then `orderZ` along the
// separate axis. Returns the input unchanged (as double) when the shapes are equal.
std::vector<double> nnunetResample(const float* input, const Shape3& shape, const Shape3& newShape, int order,
                                   std::optional<int> separate, int orderZ);

// The adjoint of nnunetResample for orders 0 and 1 (its linear part, clipping left out): spreads
// weights on `newShape` back onto `shape`, so that sum(w * resample(x)) = sum(adjoint(w) * x).
// This is how a target on the study grid becomes weights on the network's grid.
std::vector<double> nnunetResampleAdjoint(const std::vector<double>& weights, const Shape3& shape,
                                          const Shape3& newShape, int order, std::optional<int> separate, int orderZ);

// Cubic B-spline prefilter of one line as scipy.ndimage.spline_filter1d(order 3, mode 'nearest')
// filters it (exposed for tests).
void splineFilterLine(double* line, int64_t n);

} // namespace segxai
