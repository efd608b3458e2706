#pragma once
// Engine-internal: sliding-window inference (MONAI's algorithm): windows of the card's patch
// size overlapping by the card's fraction, outputs blended with a Gaussian (or constant)
// importance map.
#include "engine/model/model_card.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
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

// How the blended windows are summed: in float32, or in half precision (as nnU-Net always
// does) when the float32 sums of every class would exceed `halfAboveBytes`. The memory needed
// is checked against what the system has before the sums are made: too little throws
// segxai::Error with both figures.
struct WindowSums {
    uint64_t halfAboveBytes = UINT64_MAX; // never half by default
    std::string* note = nullptr;          // set to what was chosen when half precision is used
};

// One finished part of the blended output: rows [first, first + n) of spatial axis `axis`
// ([1, K, ...] float32, in the input's axis order, cropped like the whole output). Valid only
// during the call.
struct OutputSlab {
    torch::Tensor values;
    int axis = 0;
    int64_t first = 0;
};
using WindowModelForward = std::function<torch::Tensor(const torch::Tensor&)>;
using SlabSink = std::function<void(const OutputSlab&)>;

// The blended output of `forward` over windows of `input` ([1, C, X, Y, Z]), handed to `sink`
// slab by slab along the input's longest axis as soon as no later window touches it. Only the
// windows' depth along that axis is summed at a time (in float32, or half precision as `sums`
// allows), so the memory does not grow with the study's length. The input is padded
// (symmetrically, with zeros) to at least the patch size; slabs are cropped back. `forward`
// maps [B, C, patch] to [B, K, patch]. Reports progress and stops between windows.
void slidingWindowSlabs(const torch::Tensor& input, const SlidingWindow& window, const WindowModelForward& forward,
                        JobContext* job, int64_t batchSize, const WindowSums& sums, const SlabSink& sink);

// The whole blended output ([1, K, X, Y, Z], float32 or half precision as `sums` allows) from
// slidingWindowSlabs().
torch::Tensor slidingWindowForward(const torch::Tensor& input, const SlidingWindow& window,
                                   const WindowModelForward& forward, JobContext* job, int64_t batchSize = 1,
                                   const WindowSums& sums = {});

} // namespace segxai
