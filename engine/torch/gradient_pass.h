#pragma once
// Engine-internal: the score S of a target and one backward pass, for a batch of inputs, on
// whole volumes or through sliding windows (per-window gradients stitched into the grid).
#include "engine/explain/explanation.h"
#include "engine/torch/tensors.h"

#include <array>
#include <torch/torch.h>
#include <vector>

namespace segxai {

class JobContext;

// S = sum over model-grid voxels v of weights(v) * z_c(v) (logits, or probabilities for
// models that output them). `weights` is [X, Y, Z] on the model grid.
struct ScoreTarget {
    torch::Tensor weights;
    int64_t classIndex = 0;
};

struct PassOptions {
    std::string layer;    // capture this layer (CAM methods); empty: none
    bool wantCam = false; // compute CAM maps
    CamPlusPlusVariant variant = CamPlusPlusVariant::Paper;
    // Which maps, in the order Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++.
    std::array<bool, 3> cams{true, true, true};
    // The input gradient too (with a layer: without it the backward stops at the layer).
    bool inputGradient = true;
};

struct PassResult {
    std::vector<double> scores;  // S per sample
    torch::Tensor inputGradient; // [B, C, X, Y, Z] (undefined when not asked)
    // CAM maps (when asked): [X, Y, Z] on the model grid after ReLU and upsampling, in the order
    // Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++ (undefined when not asked); and at the
    // layer's own resolution, with the padding the input had.
    std::vector<torch::Tensor> cams;
    std::vector<torch::Tensor> layerCams;
    std::vector<int64_t> layerShape;
    std::array<int64_t, 3> padBefore{0, 0, 0};
    std::array<int64_t, 3> paddedSize{0, 0, 0};
};

// One forward and one backward of the summed score of a batch [B, C, X, Y, Z].
PassResult gradientPass(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target,
                        const PassOptions& options, JobContext* job);

// gradientPass() of several targets of one batch, sharing the forward: one forward of the
// whole volume, or of each sliding window for every target whose weights touch it, with a
// backward per target (the graph kept between them); as many targets at a time as their sums
// fit in memory. An nnU-Net ensemble's CAMs run target by target.
std::vector<PassResult> gradientPasses(const Model& model, const torch::Tensor& inputs,
                                       const std::vector<ScoreTarget>& targets, const PassOptions& options,
                                       JobContext* job);

// Scores S of a batch without autograd (occlusion, completeness).
std::vector<double> scoreBatch(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target);

// Several targets of one input [1, C, X, Y, Z] sharing the forward (gradientPasses()). Returns
// the input gradient [1, C, X, Y, Z] of each target and, in `scores`, S of each.
std::vector<torch::Tensor> inputGradients(const Model& model, const torch::Tensor& input,
                                          const std::vector<ScoreTarget>& targets,
                                          std::vector<double>* scores = nullptr);
// The CAM maps `which` asks for (Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++) of each
// target, [X, Y, Z] on the input's grid, sharing the forward that captures `layer`
// (gradientPasses(), without the input gradient); in `scores`, S of each target from the same
// forward.
std::vector<std::vector<torch::Tensor>> camMapsForTargets(const Model& model, const torch::Tensor& input,
                                                          const std::vector<ScoreTarget>& targets,
                                                          const std::string& layer, CamPlusPlusVariant variant,
                                                          std::array<bool, 3> which, JobContext* job,
                                                          std::vector<double>* scores = nullptr);
// S of every target for every input of a batch [B, C, X, Y, Z], from one forward (no autograd):
// [B][targets].
std::vector<std::vector<double>> scoresForTargets(const Model& model, const torch::Tensor& inputs,
                                                  const std::vector<ScoreTarget>& targets);

// Pieces of the passes, shared by the files that implement them.
torch::Tensor checkedOutput(const torch::Tensor& out, const torch::Tensor& input);
torch::Tensor classScores(const torch::Tensor& out, int64_t classIndex);
struct WindowForward {
    torch::Tensor leaf, output, activation;
};
// Makes the input a leaf that requires grad and runs the forward (capturing `layer` unless empty).
WindowForward forwardWithGrad(const Model& model, const torch::Tensor& input, const std::string& layer);
// A [X, Y, Z] map trilinearly resized to `size` (align_corners false).
torch::Tensor upsample(const torch::Tensor& map, const std::vector<int64_t>& size);
// The padding gradientPass() gives a batch and its target weights: to a multiple of
// `alignment` (0: the card's divisor) and at least the sliding window's patch.
torch::Tensor padForModel(const Model& model, const torch::Tensor& batch, Padding& padding, int64_t alignment = 0);

// The CAM maps from one layer's activation A and gradient G ([K, L...]), after ReLU, at the
// layer's resolution: Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++ (those `which` asks for;
// the others undefined).
std::vector<torch::Tensor> camMaps(const torch::Tensor& activation, const torch::Tensor& gradient,
                                   CamPlusPlusVariant variant, std::array<bool, 3> which = {true, true, true});
// Seg-Grad-CAM from A and its channels' weights (the mean gradient per channel, [K]).
torch::Tensor segGradCam(const torch::Tensor& activation, const torch::Tensor& channelWeights);
// Whether the CAM maps `which` asks for need the layer's gradient voxel by voxel: Seg-Grad-CAM
// needs only its mean per channel.
bool needsVoxelGradient(std::array<bool, 3> which);

} // namespace segxai
