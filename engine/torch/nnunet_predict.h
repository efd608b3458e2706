#pragma once
// Engine-internal: nnU-Net's predictor (tests/data/nnunet/PIPELINE.md, section 6) on a
// preprocessed input: zero padding to the patch, Gaussian-weighted sliding window with step
// 0.5, mirroring over the checkpoint's allowed axes, the folds' logits averaged; windows,
// weights and folds accumulated in half precision as nnU-Net accumulates them, even on the CPU.
#include "engine/model/nnunet_plans.h"

#include <optional>
#include <string>
#include <torch/script.h>
#include <vector>

namespace segxai {

class JobContext;

// An nnU-Net trained-model folder loaded: its plan and one network per chosen fold.
struct NnunetEnsemble {
    NnunetPlan plan;
    std::vector<torch::jit::Module> folds;                        // on the model's device, eval mode
    std::optional<std::vector<int>> mirrorAxes;                   // the checkpoint's inference_allowed_mirroring_axes
    bool mirroring = true;                                        // the user's toggle (on by default, as nnU-Net)
    double tileStep = 0.5;                                        // fraction of the patch between windows
    std::string trainer;                                          // the checkpoint's trainer_name
    NnunetSelection selection;                                    // how it was chosen, what else the folder has
    std::vector<std::vector<int64_t>> mirrorCombinations() const; // spatial tensor dims per extra pass
};

// The mean of every member's output on `batch`: each fold, unmirrored and mirrored over every
// allowed axis combination (when mirroring is on). Differentiable: explanations of an ensemble
// explain the mean of its members' scores.
torch::Tensor nnunetMemberMean(const NnunetEnsemble& ensemble, const torch::Tensor& batch);

// Window starts along one axis (compute_steps_for_sliding_window).
std::vector<int64_t> nnunetWindowSteps(int64_t size, int64_t patch, double step);

// compute_gaussian(patch, 1/8, value_scaling_factor 10) as half-precision bits, [X, Y, Z] C order.
std::vector<uint16_t> nnunetGaussian(const std::array<int64_t, 3>& patch);

// The mean over folds of the sliding-window logits of `input` ([1, C, X, Y, Z] float32 on the
// CPU, internal axis order) as half-precision bits [heads][X * Y * Z]. `forward` runs one
// network on one window (it is what mirroring calls): (fold, window) -> [1, K, patch].
using NnunetForward = std::function<torch::Tensor(size_t fold, const torch::Tensor& window)>;
std::vector<uint16_t> nnunetPredictLogits(const NnunetEnsemble& ensemble, const torch::Tensor& input,
                                          const NnunetForward& forward, JobContext* job);

} // namespace segxai
