#pragma once
// Engine-internal: sliding-window inference (MONAI's algorithm): windows of the card's patch
// size overlapping by the card's fraction, outputs blended with a Gaussian (or constant)
// importance map.
#include "engine/model/model_card.h"

#include <array>
#include <functional>
#include <torch/torch.h>
#include <vector>

namespace segxai {

class JobContext;

struct WindowPlan {
    std::array<int64_t, 3> patch{};
    std::vector<std::array<int64_t, 3>> starts; // window corners, in order
    torch::Tensor importance;                   // [X, Y, Z] of the patch, max 1
};

// Windows covering a spatial size that is at least the patch size on every axis. With
// `alignment` > 1, window starts are multiples of it (when size and patch are), so windows of a
// layer with that stride share one layer grid.
WindowPlan planWindows(const std::array<int64_t, 3>& size, const SlidingWindow& window, int64_t alignment = 1);

// Blended output of `forward` over windows of `input` ([1, C, X, Y, Z]); the input is padded
// (symmetrically, with zeros) to at least the patch size and the output cropped back.
// `forward` maps [B, C, patch] to [B, K, patch]. Reports progress and stops between windows.
torch::Tensor slidingWindowForward(const torch::Tensor& input, const SlidingWindow& window,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward, JobContext* job,
                                   int64_t batchSize = 1);

} // namespace segxai
