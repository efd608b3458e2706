#pragma once
// Engine-internal: one checked forward of a model on a prepared input tensor.
#include "engine/model/model.h"
#include "engine/torch/sliding_window.h"

#include <torch/torch.h>

namespace segxai {

class JobContext;

// Runs the model on `input` ([1, C, X, Y, Z], CPU) the way its card says: padded to the
// card's divisor, whole volume or sliding window, on the model's device; returns the output
// cropped back to the input's spatial size, on the CPU. Works with and without autograd.
// Throws segxai::Error when the forward throws or the output is not [1, K, X, Y, Z] of the
// padded input's spatial size, or holds NaN or infinite values (checked when `checkFinite`).
// Sliding-window outputs may be half precision as `sums` allows (sliding_window.h).
torch::Tensor forwardModel(const Model& model, const torch::Tensor& input, JobContext* job, bool checkFinite = true,
                           const WindowSums& sums = {});

// forwardModel() of a sliding-window model, handed to `sink` slab by slab (float32, cropped to
// the input's spatial size, each checked to be finite): slidingWindowSlabs(). `input` is let go
// once padded, so a caller that moves it in holds one copy of the study while windows run.
void forwardModelSlabs(const Model& model, torch::Tensor input, JobContext* job, const WindowSums& sums,
                       const SlabSink& sink);

// What the log and reports say when the model returns a tuple or list (`kind`).
std::string tupleOutputNote(const Model& model, const std::string& kind);

// The raw module forward of a batch (no padding, no checks beyond the exception boundary).
torch::Tensor moduleForward(const Model& model, const torch::Tensor& batch);

} // namespace segxai
