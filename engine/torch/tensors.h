#pragma once
// Engine-internal: volumes <-> tensors in the layout models expect. Study voxel (i, j, k) is
// tensor element [.., i, j, k] (nibabel's and MONAI's order); ITK's buffer runs i fastest,
// so its natural view (k, j, i) is permuted. Cards may ask for (k, j, i) instead.
#include "engine/core/volume.h"

#include <array>
#include <torch/torch.h>
#include <vector>

namespace segxai {

// [1, C, X, Y, Z] float32 on the CPU.
torch::Tensor volumesToTensor(const std::vector<Volume>& channels, bool reverseAxes);
// One channel of a [1, K, X, Y, Z] (or [K, X, Y, Z]) tensor as a volume on `grid`.
Volume tensorChannelToVolume(const torch::Tensor& tensor, int64_t channel, const Geometry& grid, bool reverseAxes,
                             const std::string& name);
// A [X, Y, Z] (or [1, 1, X, Y, Z]) tensor as a volume on `grid`.
Volume tensorToVolume(const torch::Tensor& tensor, const Geometry& grid, bool reverseAxes, const std::string& name);

// A study-grid mask as weights [X, Y, Z] on the model's grid: each study voxel's weight 1
// spread over the model voxels that interpolate it (engine/resample.h, scatterLinear), so a
// score summed with these weights equals the score of the study-grid mask.
torch::Tensor maskOnModelGrid(const std::vector<uint8_t>& mask, const Geometry& studyGrid, const Geometry& modelGrid,
                              bool reverseAxes);

// Symmetric zero padding of the three spatial dimensions to a multiple of `divisor` (and at
// least `minimum`), as MONAI's DivisiblePad / SpatialPad with method "symmetric".
struct Padding {
    std::array<int64_t, 3> before{0, 0, 0};
    std::array<int64_t, 3> size{0, 0, 0}; // unpadded spatial size
};
torch::Tensor padSpatial(const torch::Tensor& tensor, int64_t divisor, Padding& padding,
                         std::array<int64_t, 3> minimum = {1, 1, 1});
torch::Tensor cropSpatial(const torch::Tensor& tensor, const Padding& padding);

} // namespace segxai
