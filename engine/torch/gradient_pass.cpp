#include "engine/torch/gradient_pass.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/sliding_window.h"
#include "engine/torch/tensors.h"

#include <fmt/format.h>
#include <torch/csrc/autograd/autograd.h>

namespace segxai {
namespace {

namespace F = torch::nn::functional;

std::vector<int64_t> spatialDims(const torch::Tensor& t) {
    std::vector<int64_t> dims;
    for (int64_t d = 1; d < t.dim(); ++d) dims.push_back(d);
    return dims;
}

} // namespace

// The output [B, K, X, Y, Z] of a forward, checked as forwardModel checks it.
torch::Tensor checkedOutput(const torch::Tensor& out, const torch::Tensor& input) {
    if (out.dim() != 5 || out.size(0) != input.size(0) || out.size(2) != input.size(2) || out.size(3) != input.size(3) ||
        out.size(4) != input.size(4)) {
        throw Error("the model's output is not [batch, classes, spatial...] of its input's size");
    }
    return out;
}

torch::Tensor classScores(const torch::Tensor& out, int64_t classIndex) {
    if (classIndex >= out.size(1)) {
        throw Error(fmt::format("class {} does not exist: the model outputs {} channels", classIndex, out.size(1)));
    }
    return out.select(1, classIndex);
}

WindowForward forwardWithGrad(const Model& model, const torch::Tensor& input, const std::string& layer) {
    WindowForward f;
    f.leaf = input.detach().to(model.impl().device).requires_grad_(true);
    if (layer.empty()) {
        f.output = checkedOutput(moduleForward(model, f.leaf), f.leaf);
    } else {
        const CapturedForward c = layerCapture(model, layer)->forward(f.leaf);
        f.output = checkedOutput(c.output, f.leaf);
        f.activation = c.activation;
    }
    return f;
}

torch::Tensor upsample(const torch::Tensor& map, const std::vector<int64_t>& size) {
    return F::interpolate(map.unsqueeze(0).unsqueeze(0),
                          F::InterpolateFuncOptions().size(size).mode(torch::kTrilinear).align_corners(false))
        .squeeze(0)
        .squeeze(0);
}

std::vector<torch::Tensor> camMaps(const torch::Tensor& A, const torch::Tensor& G, CamPlusPlusVariant variant,
                                   std::array<bool, 3> which) {
    const auto spatial = spatialDims(A);
    std::vector<int64_t> keep(size_t(A.dim()), 1);
    keep[0] = A.size(0);
    std::vector<torch::Tensor> maps(3);
    // Seg-Grad-CAM: channel weights are the mean gradient.
    if (which[0]) maps[0] = torch::relu((G.mean(spatial).view(keep) * A).sum(0));
    // Seg-HiRes-Grad-CAM: gradient times activation, where the gradient lands.
    if (which[1]) maps[1] = torch::relu((G * A).sum(0));
    if (!which[2]) return maps;
    // Seg-Grad-CAM++ (the factor exp(S) cancels and overflows float32: left out).
    const torch::Tensor g2 = G.pow(2), g3 = G.pow(3);
    torch::Tensor alpha;
    if (variant == CamPlusPlusVariant::Paper) {
        const torch::Tensor sumA = A.sum(spatial).view(keep);
        alpha = torch::where(G != 0, g2 / (2 * g2 + sumA * g3 + 1e-7), torch::zeros_like(G));
    } else {
        torch::Tensor denominator = 2 * g2 + (A * g3).sum(spatial).view(keep);
        denominator = torch::where(denominator != 0, denominator, torch::ones_like(denominator));
        alpha = g2 / (denominator + 1e-7);
    }
    const torch::Tensor plusWeights = (alpha * torch::relu(G)).sum(spatial).view(keep);
    maps[2] = torch::relu((plusWeights * A).sum(0));
    return maps;
}

torch::Tensor padForModel(const Model& model, const torch::Tensor& batch, Padding& padding) {
    const ModelCard& card = model.card();
    return padSpatial(batch, std::max<int64_t>(1, card.divisibleBy), padding,
                      card.slidingWindow ? card.slidingWindow->patch : std::array<int64_t, 3>{1, 1, 1});
}

PassResult gradientPass(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target,
                        const PassOptions& options, JobContext* job) {
    const ModelCard& card = model.card();
    PassResult result;
    const std::string layer = options.wantCam ? options.layer : std::string();
    Padding padding;
    const torch::Tensor padded = padForModel(model, inputs, padding);
    Padding weightPadding;
    const torch::Tensor weights = padForModel(model, target.weights.unsqueeze(0), weightPadding).squeeze(0).to(model.impl().device);
    result.padBefore = padding.before;
    const std::vector<int64_t> size{padded.size(2), padded.size(3), padded.size(4)};
    result.paddedSize = {size[0], size[1], size[2]};
    const int64_t batch = inputs.size(0);
    torch::Tensor gradient = torch::zeros_like(padded);
    result.scores.assign(size_t(batch), 0.0);
    std::vector<torch::Tensor> camSums;

    if (!card.slidingWindow) {
        WindowForward f = forwardWithGrad(model, padded, layer);
        const torch::Tensor perSample = (classScores(f.output, target.classIndex) * weights).sum({1, 2, 3});
        std::vector<torch::Tensor> wrt{f.leaf};
        if (f.activation.defined()) wrt.insert(wrt.begin(), f.activation);
        const auto grads = torch::autograd::grad({perSample.sum()}, wrt);
        gradient = grads.back().to(torch::kCPU);
        for (int64_t b = 0; b < batch; ++b) result.scores[size_t(b)] = perSample[b].item<double>();
        if (f.activation.defined()) {
            result.layerShape = f.activation.sizes().vec();
            for (const torch::Tensor& cam : camMaps(f.activation[0].detach(), grads[0][0].detach(), options.variant, options.cams)) {
                result.layerCams.push_back(cam.defined() ? cam.to(torch::kCPU) : cam);
                camSums.push_back(cam.defined() ? upsample(cam, size).to(torch::kCPU) : cam);
            }
        }
    } else {
        // S = sum_v T(v) o(v) with o the blended output: window w contributes its output
        // weighted by T * importance / (sum of the importances at v). Windows start on
        // multiples of the card's divisor, so a layer's windows share one layer grid: the
        // layer's activations are stitched (averaged where windows overlap, weighted by the
        // importance map so that window borders, which see zero padding, count little), its gradients
        // summed (S is a sum over windows), and the CAM maps made from the stitched pair
        // exactly as for a whole volume.
        const int64_t alignment = std::max<int64_t>(1, card.divisibleBy);
        const WindowPlan plan = planWindows({size[0], size[1], size[2]}, *card.slidingWindow, alignment);
        const auto& p = plan.patch;
        const torch::Tensor importance = plan.importance.to(model.impl().device);
        torch::Tensor normaliser = torch::zeros({size[0], size[1], size[2]}, importance.options());
        for (const auto& s : plan.starts) {
            normaliser.slice(0, s[0], s[0] + p[0]).slice(1, s[1], s[1] + p[1]).slice(2, s[2], s[2] + p[2]) += importance;
        }
        torch::Tensor activationSum, activationCount, gradientSum;
        std::array<int64_t, 3> stride{1, 1, 1};
        for (size_t w = 0; w < plan.starts.size(); ++w) {
            const auto& s = plan.starts[w];
            auto region = [&](const torch::Tensor& t, int64_t first, const std::array<int64_t, 3>& start,
                              const std::array<int64_t, 3>& extent) {
                return t.slice(first, start[0], start[0] + extent[0])
                    .slice(first + 1, start[1], start[1] + extent[1])
                    .slice(first + 2, start[2], start[2] + extent[2]);
            };
            const torch::Tensor windowWeights = region(weights, 0, s, p) * importance / region(normaliser, 0, s, p);
            const bool inTarget = windowWeights.abs().sum().item<double>() != 0.0;
            if (!inTarget && layer.empty()) continue; // contributes nothing
            if (job) {
                job->throwIfStopped();
                job->progress(float(w) / float(plan.starts.size()), fmt::format("window {} of {}", w + 1, plan.starts.size()));
            }
            torch::Tensor activation, activationGradient;
            if (inTarget) {
                WindowForward f = forwardWithGrad(model, region(padded, 2, s, p), layer);
                const torch::Tensor perSample = (classScores(f.output, target.classIndex) * windowWeights).sum({1, 2, 3});
                std::vector<torch::Tensor> wrt{f.leaf};
                if (f.activation.defined()) wrt.insert(wrt.begin(), f.activation);
                const auto grads = torch::autograd::grad({perSample.sum()}, wrt);
                region(gradient, 2, s, p) += grads.back().to(torch::kCPU);
                for (int64_t b = 0; b < batch; ++b) result.scores[size_t(b)] += perSample[b].item<double>();
                if (f.activation.defined()) {
                    activation = f.activation[0].detach().to(torch::kCPU);
                    activationGradient = grads[0][0].detach().to(torch::kCPU);
                }
            } else {
                // Outside the target: the layer's activation only, for the stitched grid.
                torch::NoGradGuard noGrad;
                activation = layerCapture(model, layer)->forward(region(padded, 2, s, p).slice(0, 0, 1).to(model.impl().device))
                                 .activation[0].to(torch::kCPU);
            }
            if (!activation.defined()) continue;
            if (!activationSum.defined()) {
                result.layerShape = {1, activation.size(0), activation.size(1), activation.size(2), activation.size(3)};
                for (int a = 0; a < 3; ++a) {
                    if (p[size_t(a)] % activation.size(a + 1) != 0 || alignment % (p[size_t(a)] / activation.size(a + 1)) != 0) {
                        throw Error(fmt::format("layer '{}' ({} voxels across a {}-voxel window) does not share one grid "
                                                "between windows; choose a layer whose stride divides {}",
                                                layer, activation.size(a + 1), p[size_t(a)], alignment));
                    }
                    stride[size_t(a)] = p[size_t(a)] / activation.size(a + 1);
                }
                const std::vector<int64_t> grid{activation.size(0), size[0] / stride[0], size[1] / stride[1], size[2] / stride[2]};
                activationSum = torch::zeros(grid);
                gradientSum = torch::zeros(grid);
                activationCount = torch::zeros({grid[1], grid[2], grid[3]});
            }
            const std::array<int64_t, 3> at{s[0] / stride[0], s[1] / stride[1], s[2] / stride[2]};
            const std::array<int64_t, 3> extent{activation.size(1), activation.size(2), activation.size(3)};
            const torch::Tensor layerImportance =
                F::avg_pool3d(plan.importance.unsqueeze(0).unsqueeze(0),
                              F::AvgPool3dFuncOptions({stride[0], stride[1], stride[2]}))[0][0];
            region(activationSum, 1, at, extent) += activation * layerImportance;
            region(activationCount, 0, at, extent) += layerImportance;
            if (activationGradient.defined()) region(gradientSum, 1, at, extent) += activationGradient;
        }
        if (options.wantCam) {
            if (!activationSum.defined()) throw Error("no window produced the layer's activation");
            const torch::Tensor stitched = activationSum / activationCount.clamp_min(1e-20);
            result.layerShape = {1, stitched.size(0), stitched.size(1), stitched.size(2), stitched.size(3)};
            for (const torch::Tensor& cam : camMaps(stitched, gradientSum, options.variant, options.cams)) {
                result.layerCams.push_back(cam);
                camSums.push_back(cam.defined() ? upsample(cam, size) : cam);
            }
        }
    }
    result.inputGradient = cropSpatial(gradient, padding);
    for (auto& cam : camSums) result.cams.push_back(cam.defined() ? cropSpatial(cam, padding) : cam);
    return result;
}

std::vector<double> scoreBatch(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target) {
    torch::InferenceMode noGrad;
    std::vector<double> scores;
    const torch::Tensor weights = target.weights.to(torch::kCPU);
    if (!model.card().slidingWindow) {
        const torch::Tensor out = forwardModel(model, inputs, nullptr, false);
        const torch::Tensor s = (classScores(out, target.classIndex).to(torch::kCPU) * weights).sum({1, 2, 3});
        for (int64_t b = 0; b < s.size(0); ++b) scores.push_back(s[b].item<double>());
        return scores;
    }
    for (int64_t b = 0; b < inputs.size(0); ++b) {
        const torch::Tensor out = forwardModel(model, inputs.slice(0, b, b + 1), nullptr, false);
        scores.push_back((classScores(out, target.classIndex).to(torch::kCPU)[0] * weights).sum().item<double>());
    }
    return scores;
}

} // namespace segxai
