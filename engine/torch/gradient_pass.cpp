#include "engine/torch/gradient_pass.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_forward.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_members.h"
#include "engine/torch/sample_lanes.h"
#include "engine/torch/sliding_window.h"
#include "engine/torch/tensors.h"

#include <fmt/format.h>
#include <numeric>
#include <optional>
#include <torch/csrc/autograd/autograd.h>

namespace segxai {
namespace {

namespace F = torch::nn::functional;

std::vector<int64_t> spatialDims(const torch::Tensor& t) {
    std::vector<int64_t> dims;
    for (int64_t d = 1; d < t.dim(); ++d)
        dims.push_back(d);
    return dims;
}

} // namespace

// The output [B, K, X, Y, Z] of a forward, checked as forwardModel checks it.
torch::Tensor checkedOutput(const torch::Tensor& out, const torch::Tensor& input) {
    if (out.dim() != 5 || out.size(0) != input.size(0) || out.size(2) != input.size(2) ||
        out.size(3) != input.size(3) || out.size(4) != input.size(4)) {
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
    if (which[0]) maps[0] = segGradCam(A, G.mean(spatial));
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

torch::Tensor segGradCam(const torch::Tensor& A, const torch::Tensor& channelWeights) {
    std::vector<int64_t> keep(size_t(A.dim()), 1);
    keep[0] = A.size(0);
    return torch::relu((channelWeights.view(keep) * A).sum(0));
}

bool needsVoxelGradient(std::array<bool, 3> which) {
    return which[1] || which[2];
}

torch::Tensor padForModel(const Model& model, const torch::Tensor& batch, Padding& padding, int64_t alignment) {
    const ModelCard& card = model.card();
    return padSpatial(batch, alignment > 0 ? alignment : std::max<int64_t>(1, card.divisibleBy), padding,
                      card.slidingWindow ? card.slidingWindow->patch : std::array<int64_t, 3>{1, 1, 1});
}

namespace {

using Extent = std::array<int64_t, 3>;

// The part of `t` whose spatial axes start at axis `first`: `extent` voxels from `start`.
torch::Tensor region(const torch::Tensor& t, int64_t first, const Extent& start, const Extent& extent) {
    return t.slice(first, start[0], start[0] + extent[0])
        .slice(first + 1, start[1], start[1] + extent[1])
        .slice(first + 2, start[2], start[2] + extent[2]);
}

// What both ways of running a pass work on: the padded batch and the targets' weights.
struct PaddedProblem {
    const Model& model;
    int64_t alignment;                // sliding windows start on its multiples (windowLayerShape)
    const torch::Tensor& padded;      // [B, C, X, Y, Z]
    const Padding& padding;           // where the input lies in `padded`
    std::vector<ScoreTarget> targets; // weights [X, Y, Z] on the input's grid (not padded)
    const std::string& layer;         // empty: no layer captured
    const PassOptions& options;

    std::vector<int64_t> size() const { return {padded.size(2), padded.size(3), padded.size(4)}; }
    // Target t's weights over `extent` voxels from `start` of the padded grid, zero in the
    // padding, on the model's device. Padding a target's weights whole would hold a copy per
    // target for the whole pass; a window takes its part when it runs.
    torch::Tensor weightsIn(size_t t, const Extent& start, const Extent& extent) const {
        const torch::Tensor& weights = targets[t].weights;
        Extent from{}, to{}, at{}, overlap{};
        bool inside = true;
        for (size_t a = 0; a < 3; ++a) {
            const int64_t lo = start[a] - padding.before[a], hi = lo + extent[a];
            from[a] = std::max<int64_t>(0, lo);
            to[a] = std::min<int64_t>(weights.size(int64_t(a)), hi);
            at[a] = from[a] - lo;
            overlap[a] = std::max<int64_t>(0, to[a] - from[a]);
            inside = inside && from[a] == lo && to[a] == hi;
        }
        const torch::Device device = model.impl().device;
        if (inside) return region(weights, 0, from, extent).to(device);
        torch::Tensor part = torch::zeros({extent[0], extent[1], extent[2]}, weights.options());
        if (overlap[0] > 0 && overlap[1] > 0 && overlap[2] > 0)
            region(part, 0, at, overlap).copy_(region(weights, 0, from, overlap));
        return part.to(device);
    }
    // What the backward is taken with respect to: the captured activation (a CAM) and the input
    // (its gradient), as asked. Without the input the backward stops at the layer.
    bool wantsInputGradient() const { return options.inputGradient || layer.empty(); }
};

// What a pass adds up for one target on the padded grid, before it is cropped back to the input's.
struct PaddedSums {
    torch::Tensor gradient;          // dS/d(input), [B, C, X, Y, Z] (undefined when not asked)
    std::vector<torch::Tensor> cams; // the CAM maps upsampled (undefined where not asked)
};

// The tensors a backward is taken with respect to: the activation first, then the input.
std::vector<torch::Tensor> backwardInputs(const PaddedProblem& p, const WindowForward& f) {
    std::vector<torch::Tensor> wrt;
    if (f.activation.defined()) wrt.push_back(f.activation);
    if (p.wantsInputGradient()) wrt.push_back(f.leaf);
    return wrt;
}

// One forward of the whole padded batch and a backward per target (the graph kept between them).
std::vector<PaddedSums> wholeVolumePass(const PaddedProblem& p, std::vector<PassResult>& results) {
    WindowForward f = forwardWithGrad(p.model, p.padded, p.layer);
    const Extent whole{p.padded.size(2), p.padded.size(3), p.padded.size(4)};
    std::vector<torch::Tensor> perSample;
    for (size_t t = 0; t < p.targets.size(); ++t) {
        perSample.push_back(
            (classScores(f.output, p.targets[t].classIndex) * p.weightsIn(t, {0, 0, 0}, whole)).sum({1, 2, 3}));
    }
    f.output.reset(); // the backward needs none of the output
    const std::vector<torch::Tensor> wrt = backwardInputs(p, f);
    std::vector<PaddedSums> sums(p.targets.size());
    for (size_t t = 0; t < p.targets.size(); ++t) {
        const bool more = t + 1 < p.targets.size();
        const auto grads = torch::autograd::grad({perSample[t].sum()}, wrt, {}, /*retain_graph=*/more);
        if (p.wantsInputGradient()) sums[t].gradient = grads.back().to(torch::kCPU);
        for (int64_t b = 0; b < p.padded.size(0); ++b)
            results[t].scores[size_t(b)] = perSample[t][b].item<double>();
        if (!f.activation.defined()) continue;
        results[t].layerShape = f.activation.sizes().vec();
        for (const torch::Tensor& cam :
             camMaps(f.activation[0].detach(), grads[0][0].detach(), p.options.variant, p.options.cams)) {
            results[t].layerCams.push_back(cam.defined() ? cam.to(torch::kCPU) : cam);
            sums[t].cams.push_back(cam.defined() ? upsample(cam, p.size()).to(torch::kCPU) : cam);
        }
    }
    return sums;
}

// A layer's activations stitched across sliding windows onto one layer grid (averaged where
// windows overlap, weighted by the importance map so that window borders, which see zero
// padding, count little), and each target's gradients summed (S is a sum over windows): voxel
// by voxel for the maps that need it, else per channel only (Seg-Grad-CAM's weights are the
// gradient's mean, and at a fine decoder layer of a CT each target's stitched gradient is
// as large as the activation). Windows start on multiples of the card's divisor, so the
// windows of a layer whose stride divides it share one layer grid.
class LayerStitch {
public:
    LayerStitch(const WindowPlan& plan, int64_t alignment, std::vector<int64_t> size, const std::string& layer,
                size_t targets, bool voxelGradient)
        : m_plan(plan), m_alignment(alignment), m_size(std::move(size)), m_layer(layer), m_voxelGradient(voxelGradient),
          m_gradientSums(targets) {}

    // Adds the activation [K, x, y, z] of the window at `start`, and the gradient of each
    // target the window touches (`gradients[t]`, undefined for the others). Throws
    // segxai::Error when the layer's windows do not share one grid.
    void add(const Extent& start, const torch::Tensor& activation, const std::vector<torch::Tensor>& gradients) {
        if (!m_activationSum.defined()) startGrid(activation);
        const Extent at{start[0] / m_stride[0], start[1] / m_stride[1], start[2] / m_stride[2]};
        const Extent extent{activation.size(1), activation.size(2), activation.size(3)};
        const torch::Tensor layerImportance =
            F::avg_pool3d(m_plan.importance.unsqueeze(0).unsqueeze(0),
                          F::AvgPool3dFuncOptions({m_stride[0], m_stride[1], m_stride[2]}))[0][0];
        region(m_activationSum, 1, at, extent) += activation * layerImportance;
        region(m_activationCount, 0, at, extent) += layerImportance;
        for (size_t t = 0; t < gradients.size(); ++t) {
            if (!gradients[t].defined()) continue;
            if (!m_voxelGradient) {
                const torch::Tensor sums = gradients[t].sum({1, 2, 3}, false, torch::kFloat64);
                m_gradientSums[t] = m_gradientSums[t].defined() ? m_gradientSums[t] + sums : sums;
                continue;
            }
            if (!m_gradientSums[t].defined()) m_gradientSums[t] = torch::zeros_like(m_activationSum);
            region(m_gradientSums[t], 1, at, extent) += gradients[t];
        }
    }

    // After the last window: the activation sums become their weighted average, in place.
    void average() {
        if (!m_activationSum.defined()) throw Error("no window produced the layer's activation");
        m_activationSum.div_(m_activationCount.clamp_min_(1e-20));
        m_activationCount = torch::Tensor();
    }

    // The CAM maps of target `t`'s stitched pair (after average()), exactly as for a whole
    // volume: at the layer's resolution into `result`, and returned upsampled to the padded grid.
    std::vector<torch::Tensor> cams(size_t t, const PassOptions& options, PassResult& result) const {
        const torch::Tensor& stitched = m_activationSum;
        result.layerShape = {1, stitched.size(0), stitched.size(1), stitched.size(2), stitched.size(3)};
        std::vector<torch::Tensor> maps;
        if (m_voxelGradient) {
            const torch::Tensor gradient =
                m_gradientSums[t].defined() ? m_gradientSums[t] : torch::zeros_like(m_activationSum);
            maps = camMaps(stitched, gradient, options.variant, options.cams);
        } else {
            const double cells = double(stitched.numel() / stitched.size(0));
            const torch::Tensor weights = m_gradientSums[t].defined() ? (m_gradientSums[t] / cells).to(torch::kFloat32)
                                                                      : torch::zeros({stitched.size(0)});
            maps = {segGradCam(stitched, weights), torch::Tensor(), torch::Tensor()};
        }
        std::vector<torch::Tensor> upsampled;
        for (const torch::Tensor& cam : maps) {
            result.layerCams.push_back(cam);
            upsampled.push_back(cam.defined() ? upsample(cam, m_size) : cam);
        }
        return upsampled;
    }

private:
    // The layer grid, from the first window's activation: its stride must divide the alignment.
    void startGrid(const torch::Tensor& activation) {
        const Extent& patch = m_plan.patch;
        for (int a = 0; a < 3; ++a) {
            const int64_t across = activation.size(a + 1), window = patch[size_t(a)];
            if (window % across != 0 || m_alignment % (window / across) != 0) {
                throw Error(fmt::format("layer '{}' ({} voxels across a {}-voxel window) does not "
                                        "share one grid between windows; choose a layer whose "
                                        "stride divides {}",
                                        m_layer, across, window, m_alignment));
            }
            m_stride[size_t(a)] = window / across;
        }
        m_activationSum = torch::zeros(
            {activation.size(0), m_size[0] / m_stride[0], m_size[1] / m_stride[1], m_size[2] / m_stride[2]});
        m_activationCount = torch::zeros({m_activationSum.size(1), m_activationSum.size(2), m_activationSum.size(3)});
    }

    const WindowPlan& m_plan;
    int64_t m_alignment;
    std::vector<int64_t> m_size; // the padded grid
    const std::string& m_layer;
    bool m_voxelGradient; // else per channel (float64 sums over the windows)
    Extent m_stride{1, 1, 1};
    torch::Tensor m_activationSum, m_activationCount;
    std::vector<torch::Tensor> m_gradientSums; // per target; undefined until a window touches it
};

// A target in one window: its weights there (the target's, times the window's share of the
// blend) and the window's view of its padded input gradient.
struct WindowTarget {
    size_t index;
    torch::Tensor weights, gradientRegion;
};

// The layer's activation of one window and the gradient of each target there (undefined
// without a layer, and for the targets the window does not touch).
struct WindowLayer {
    torch::Tensor activation;
    std::vector<torch::Tensor> gradients;
};

// One window of a sliding-window pass. Touching targets: one forward, then a backward per
// target (the graph kept between them), its input gradient added to its region and S to its
// scores. Touching none: the layer's activation only (the forward cut at the layer), for the
// stitched grid.
WindowLayer windowPass(const PaddedProblem& p, const torch::Tensor& window, std::vector<WindowTarget>& touching,
                       std::vector<PassResult>& results) {
    WindowLayer out;
    out.gradients.resize(p.targets.size());
    if (touching.empty()) {
        torch::NoGradGuard noGrad;
        const torch::Tensor first = window.slice(0, 0, 1).to(p.model.impl().device);
        out.activation = layerCapture(p.model, p.layer)->activation(first)[0].to(torch::kCPU);
        return out;
    }
    WindowForward f = forwardWithGrad(p.model, window, p.layer);
    std::vector<torch::Tensor> perSample;
    for (const WindowTarget& t : touching)
        perSample.push_back((classScores(f.output, p.targets[t.index].classIndex) * t.weights).sum({1, 2, 3}));
    f.output.reset(); // every class's output: the backward needs none of it (a 105-class window: 0.9 GB)
    const std::vector<torch::Tensor> wrt = backwardInputs(p, f);
    for (size_t i = 0; i < touching.size(); ++i) {
        const bool more = i + 1 < touching.size();
        const auto grads = torch::autograd::grad({perSample[i].sum()}, wrt, {}, /*retain_graph=*/more);
        if (p.wantsInputGradient()) touching[i].gradientRegion += grads.back().to(torch::kCPU);
        PassResult& result = results[touching[i].index];
        for (int64_t b = 0; b < window.size(0); ++b)
            result.scores[size_t(b)] += perSample[i][b].item<double>();
        if (f.activation.defined()) out.gradients[touching[i].index] = grads[0][0].detach().to(torch::kCPU);
    }
    if (f.activation.defined()) out.activation = f.activation[0].detach().to(torch::kCPU);
    return out;
}

// S = sum_v T(v) o(v) with o the blended output: window w contributes its output weighted by
// T * importance / (sum of the importances at v). Each window's forward serves every target
// it touches; a window that touches none is skipped (or, for a CAM, runs without gradient for
// the stitched activation). The input gradient is summed over the windows; the layer's
// activations and gradients are stitched (LayerStitch).
std::vector<PaddedSums> slidingWindowPass(const PaddedProblem& p, std::vector<PassResult>& results, JobContext* job) {
    const ModelCard& card = p.model.card();
    const std::vector<int64_t> size = p.size();
    const WindowPlan plan = planWindows({size[0], size[1], size[2]}, *card.slidingWindow, p.alignment);
    const Extent& patch = plan.patch;
    const torch::Tensor importance = plan.importance.to(p.model.impl().device);
    torch::Tensor normaliser = torch::zeros({size[0], size[1], size[2]}, importance.options());
    for (const Extent& s : plan.starts)
        region(normaliser, 0, s, patch) += importance;
    std::vector<PaddedSums> sums(p.targets.size());
    if (p.wantsInputGradient()) {
        for (PaddedSums& s : sums)
            s.gradient = torch::zeros_like(p.padded);
    }
    LayerStitch stitch(plan, p.alignment, size, p.layer, p.targets.size(), needsVoxelGradient(p.options.cams));
    for (size_t w = 0; w < plan.starts.size(); ++w) {
        const Extent& s = plan.starts[w];
        const torch::Tensor blendShare = importance / region(normaliser, 0, s, patch);
        std::vector<WindowTarget> touching;
        for (size_t t = 0; t < p.targets.size(); ++t) {
            torch::Tensor weights = p.weightsIn(t, s, patch) * blendShare;
            if (weights.abs().sum().item<double>() == 0.0) continue;
            touching.push_back({t, std::move(weights),
                                p.wantsInputGradient() ? region(sums[t].gradient, 2, s, patch) : torch::Tensor()});
        }
        if (touching.empty() && p.layer.empty()) continue; // contributes nothing
        if (job) {
            job->throwIfStopped();
            job->progress(float(w) / float(plan.starts.size()),
                          fmt::format("window {} of {}", w + 1, plan.starts.size()));
        }
        const WindowLayer layer = windowPass(p, region(p.padded, 2, s, patch), touching, results);
        if (layer.activation.defined()) stitch.add(s, layer.activation, layer.gradients);
    }
    if (p.options.wantCam) {
        // The windows' freed buffers go back to the system before the maps are made, once
        // (after every window, the pages would be faulted in again at every window: 4 times
        // slower at the scale benchmark). Kept, they fragment the heap: the maps, made after
        // them, raised the peak of a CAM at the scale benchmark's finest decoder stage by 0.8 GiB.
        releaseFreedMemory();
        stitch.average();
        for (size_t t = 0; t < sums.size(); ++t)
            sums[t].cams = stitch.cams(t, p.options, results[t]);
    }
    return sums;
}

// The captured layer as sliding windows see it.
struct LayerShape {
    int64_t alignment = 1;     // windows start on its multiples (windowLayerShape)
    int64_t channels = 0;      // the layer's channels (0: no layer)
    int64_t voxelsPerCell = 1; // input voxels per layer voxel

    // The layer's voxels over the padded input [B, C, X, Y, Z].
    uint64_t cells(const torch::Tensor& padded) const {
        return uint64_t(padded.numel() / padded.size(1)) / uint64_t(voxelsPerCell);
    }
};

// Where sliding windows may start: on multiples of the card's divisor and, for a CAM, of the
// layer's stride on every axis (measured on one patch of zeros), so that every window's
// activation falls on one layer grid whatever the study's size. The input is padded to a
// multiple of it, so the last window is aligned too.
LayerShape windowLayerShape(const Model& model, const std::string& layer, int64_t channels) {
    const ModelCard& card = model.card();
    LayerShape shape;
    shape.alignment = std::max<int64_t>(1, card.divisibleBy);
    if (!card.slidingWindow || layer.empty()) return shape;
    const auto& patch = card.slidingWindow->patch;
    torch::NoGradGuard noGrad;
    const torch::Tensor zeros = torch::zeros({1, channels, patch[0], patch[1], patch[2]}).to(model.impl().device);
    const torch::Tensor activation = layerCapture(model, layer)->activation(zeros);
    if (!activation.defined() || activation.dim() != 5) return shape;
    shape.channels = activation.size(1);
    for (int a = 0; a < 3; ++a) {
        const int64_t across = activation.size(a + 2);
        if (across > 0 && patch[size_t(a)] % across == 0) {
            shape.alignment = std::lcm(shape.alignment, patch[size_t(a)] / across);
            shape.voxelsPerCell *= patch[size_t(a)] / across;
        }
    }
    return shape;
}

// How many targets one sliding-window pass serves: each holds its input gradient (when asked)
// and, for the CAM maps that need it, its stitched layer gradient until the last window; as
// many as fit a quarter of the available memory (at most 2 GB), at least one.
size_t targetsPerPass(const torch::Tensor& padded, const LayerShape& layer, const PassOptions& options,
                      size_t targets) {
    uint64_t perTarget = 0;
    if (layer.channels > 0 && needsVoxelGradient(options.cams))
        perTarget += 4 * layer.cells(padded) * uint64_t(layer.channels);
    if (options.inputGradient || layer.channels == 0) perTarget += 4 * uint64_t(padded.numel());
    return itemsForQuarterBudget(perTarget, targets);
}

// A CAM through sliding windows keeps the layer's activation over the whole volume, and each
// target's gradient there when its maps need it voxel by voxel, until the last window
// (LayerStitch). At a fine decoder layer of a wide network on a CT that is gigabytes, so it is
// refused before the first window, with both figures, when the system cannot hold it.
void requireStitchMemory(const torch::Tensor& padded, const LayerShape& layer, const PassOptions& options,
                         size_t targets) {
    const uint64_t cells = layer.cells(padded);
    const uint64_t gradients = needsVoxelGradient(options.cams) ? targets : 0;
    const uint64_t needed = 4 * cells * (uint64_t(layer.channels) * (1 + gradients) + 1);
    const uint64_t available = availableMemoryBytes();
    if (available == 0 || needed <= available) return;
    const std::string what = gradients == 0 ? std::string("the activation")
                                            : fmt::format("the activation and the gradient of {} target{}", gradients,
                                                          gradients == 1 ? "" : "s");
    throw Error(fmt::format("a CAM at layer '{}' through sliding windows holds its {} channels over the whole volume "
                            "({} layer voxels) for {}: {} in float32, and {} is available; choose a coarser layer (a "
                            "deeper encoder stage or an earlier decoder stage)",
                            options.layer, layer.channels, cells, what, describeBytes(needed),
                            describeBytes(available)));
}

// Targets [first, last) through one pass on the padded batch: their results, cropped.
void passTargets(const PaddedProblem& p, const Padding& padding, size_t first, std::vector<PassResult>& results,
                 JobContext* job) {
    std::vector<PassResult> part(p.targets.size());
    for (PassResult& r : part) {
        r.padBefore = padding.before;
        r.paddedSize = {p.padded.size(2), p.padded.size(3), p.padded.size(4)};
        r.scores.assign(size_t(p.padded.size(0)), 0.0);
    }
    const std::vector<PaddedSums> sums =
        p.model.card().slidingWindow ? slidingWindowPass(p, part, job) : wholeVolumePass(p, part);
    for (size_t t = 0; t < part.size(); ++t) {
        if (sums[t].gradient.defined()) part[t].inputGradient = cropSpatial(sums[t].gradient, padding);
        for (const auto& cam : sums[t].cams)
            part[t].cams.push_back(cam.defined() ? cropSpatial(cam, padding) : cam);
        results[first + t] = std::move(part[t]);
    }
}

// The part of `job` for items [first, last) of `count` (none without a job).
std::optional<JobContext> share(JobContext* job, size_t first, size_t last, size_t count) {
    if (!job) return std::nullopt;
    job->throwIfStopped();
    return job->sub(float(first) / float(count), float(last) / float(count));
}

// gradientPasses() of a batch split between the cores (engine/torch/sample_lanes.h): each
// lane's passes on its samples, joined in the samples' order.
std::vector<PassResult> passesInLanes(const Model& model, const torch::Tensor& inputs,
                                      const std::vector<ScoreTarget>& targets, const PassOptions& options, int lanes) {
    std::vector<std::vector<PassResult>> parts(static_cast<size_t>(lanes));
    runInLanes(model, inputs.size(0), lanes, [&](int lane, LaneShare share) {
        parts[size_t(lane)] =
            gradientPasses(model, inputs.slice(0, share.first, share.first + share.count), targets, options, nullptr);
    });
    std::vector<PassResult> joined = std::move(parts[0]);
    for (size_t t = 0; t < joined.size(); ++t) {
        std::vector<torch::Tensor> gradients{joined[t].inputGradient};
        for (size_t lane = 1; lane < parts.size(); ++lane) {
            const PassResult& part = parts[lane][t];
            joined[t].scores.insert(joined[t].scores.end(), part.scores.begin(), part.scores.end());
            gradients.push_back(part.inputGradient);
        }
        if (joined[t].inputGradient.defined()) joined[t].inputGradient = torch::cat(gradients);
    }
    return joined;
}

} // namespace

std::vector<PassResult> gradientPasses(const Model& model, const torch::Tensor& inputs,
                                       const std::vector<ScoreTarget>& targets, const PassOptions& options,
                                       JobContext* job) {
    // Batches of whole-volume passes without a layer (SmoothGrad, Integrated Gradients) run
    // their samples side by side, each lane on its share of the cores.
    if (!options.wantCam && !model.card().slidingWindow) {
        if (const int lanes = sampleLanes(model, inputs.size(0)); lanes > 1) {
            if (job) job->throwIfStopped();
            return passesInLanes(model, inputs, targets, options, lanes);
        }
    }
    std::vector<PassResult> results(targets.size());
    // An nnU-Net ensemble's CAM: per member, on its own activations, averaged, target by target.
    const bool byMember = options.wantCam && hasNnunetMembers(model);
    if (byMember && targets.size() != 1) {
        for (size_t t = 0; t < targets.size(); ++t) {
            std::optional<JobContext> sub = share(job, t, t + 1, targets.size());
            results[t] = gradientPasses(model, inputs, {targets[t]}, options, sub ? &*sub : nullptr).front();
        }
        return results;
    }
    if (byMember) return {nnunetMemberAveragedPass(model, inputs, targets.front(), options, job)};
    const std::string layer = options.wantCam ? options.layer : std::string();
    Padding padding;
    const LayerShape shape = windowLayerShape(model, layer, inputs.size(1));
    const torch::Tensor padded = padForModel(model, inputs, padding, shape.alignment);
    const size_t perPass = targetsPerPass(padded, shape, options, targets.size());
    if (!layer.empty() && model.card().slidingWindow) requireStitchMemory(padded, shape, options, perPass);
    for (size_t first = 0; first < targets.size(); first += perPass) {
        const size_t last = std::min(targets.size(), first + perPass);
        std::optional<JobContext> sub = share(job, first, last, targets.size());
        const PaddedProblem p{model,
                              shape.alignment,
                              padded,
                              padding,
                              {targets.begin() + ptrdiff_t(first), targets.begin() + ptrdiff_t(last)},
                              layer,
                              options};
        passTargets(p, padding, first, results, sub ? &*sub : nullptr);
    }
    return results;
}

PassResult gradientPass(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target,
                        const PassOptions& options, JobContext* job) {
    return gradientPasses(model, inputs, {target}, options, job).front();
}

std::vector<double> scoreBatch(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target) {
    torch::InferenceMode noGrad;
    std::vector<double> scores;
    const torch::Tensor weights = target.weights.to(torch::kCPU);
    if (!model.card().slidingWindow) {
        if (const int lanes = sampleLanes(model, inputs.size(0)); lanes > 1) {
            return joinedOverLanes<double>(model, inputs, lanes,
                                           [&](const torch::Tensor& part) { return scoreBatch(model, part, target); });
        }
        const torch::Tensor out = forwardModel(model, inputs, nullptr, false);
        const torch::Tensor s = (classScores(out, target.classIndex).to(torch::kCPU) * weights).sum({1, 2, 3});
        for (int64_t b = 0; b < s.size(0); ++b)
            scores.push_back(s[b].item<double>());
        return scores;
    }
    for (int64_t b = 0; b < inputs.size(0); ++b) {
        const torch::Tensor out = forwardModel(model, inputs.slice(0, b, b + 1), nullptr, false);
        scores.push_back((classScores(out, target.classIndex).to(torch::kCPU)[0] * weights).sum().item<double>());
    }
    return scores;
}

} // namespace segxai
