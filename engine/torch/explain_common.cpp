#include "engine/torch/explain_common.h"

#include "engine/torch/tensors.h"

#include <cmath>

namespace segxai {

namespace F = torch::nn::functional;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

torch::Tensor gaussianBlur(const torch::Tensor& x, const Geometry& grid, double sigmaMm, bool reverse) {
    torch::Tensor out = x;
    for (int axis = 0; axis < 3; ++axis) {
        const int gridAxis = reverse ? 2 - axis : axis;
        const double sigma = sigmaMm / grid.spacing[gridAxis];
        const int64_t radius = std::max<int64_t>(1, int64_t(std::ceil(3.0 * sigma)));
        torch::Tensor k = torch::arange(-radius, radius + 1, torch::kFloat32);
        k = torch::exp(-0.5 * (k / float(sigma)).pow(2));
        k = k / k.sum();
        std::vector<int64_t> shape{1, 1, 1, 1, 1};
        shape[size_t(2 + axis)] = 2 * radius + 1;
        std::vector<int64_t> padding{0, 0, 0};
        padding[size_t(axis)] = radius;
        const int64_t channels = out.size(1);
        out = F::conv3d(out, k.view(shape).repeat({channels, 1, 1, 1, 1}),
                        F::Conv3dFuncOptions().padding(padding).groups(channels));
    }
    return out;
}

torch::Tensor baselineFor(const Problem& p, const Baseline& b) {
    switch (b.kind) {
    case Baseline::Kind::Zero: return torch::zeros_like(p.x);
    case Baseline::Kind::Value: return torch::full_like(p.x, b.value);
    case Baseline::Kind::ChannelMinimum: return torch::amin(p.x, {2, 3, 4}, true).expand_as(p.x).clone();
    case Baseline::Kind::Blurred: return gaussianBlur(p.x, p.input.grid, b.blurSigmaMm, p.reverseAxes);
    }
    return torch::zeros_like(p.x);
}

// The grid of a layer's activation in the world: layer voxel u covers input voxels
// [u s, (u + 1) s) of the padded input (align_corners = false), s = padded / layer size.
Geometry layerGrid(const Geometry& modelGrid, const PassResult& pass, bool reverse) {
    Geometry g = modelGrid;
    glm::dvec3 firstCentre;
    for (int t = 0; t < 3; ++t) {
        const int a = reverse ? 2 - t : t; // grid axis of tensor axis t
        const int64_t layerSize = pass.layerShape[size_t(2 + t)];
        const double scale = double(pass.paddedSize[size_t(t)]) / double(layerSize);
        g.dims[a] = layerSize;
        g.spacing[a] = modelGrid.spacing[a] * scale;
        firstCentre[a] = 0.5 * scale - 0.5 - double(pass.padBefore[size_t(t)]);
    }
    g.origin = modelGrid.voxelToWorld(firstCentre);
    return g;
}

void normalise(Volume& v, Normalize n) {
    if (n == Normalize::None || v.voxels.empty()) return;
    const ValueRange r = finiteRange(v.voxels);
    if (n == Normalize::Max) {
        const float scale = std::max(std::abs(r.min), std::abs(r.max));
        if (scale > 0.0f) {
            for (float& x : v.voxels) x /= scale;
        }
    } else if (r.max > r.min) {
        for (float& x : v.voxels) x = (x - r.min) / (r.max - r.min);
    }
}

// A model-grid map [X, Y, Z] as a volume on the model's grid.
Volume toVolume(const Problem& p, const torch::Tensor& map, const std::string& name, Normalize normalize) {
    Volume v = tensorToVolume(map, p.input.grid, p.reverseAxes, name);
    normalise(v, normalize);
    return v;
}

std::vector<ExplanationMap> perChannel(const Problem& p, const torch::Tensor& maps, const std::string& method,
                                       Normalize normalize, bool signedValues) {
    std::vector<ExplanationMap> out;
    for (size_t c = 0; c < p.study.channels.size(); ++c) {
        const std::string channel = p.study.channels[c].name;
        out.push_back({channel, toVolume(p, maps[int64_t(c)], method + "_" + channel, normalize), signedValues});
    }
    return out;
}

Explanation base(Method method, const ExplainParameters& parameters, const Target& target, const Model& model) {
    Explanation e;
    e.method = method;
    e.parameters = parameters;
    e.classIndex = target.classIndex;
    e.className = target.className;
    e.targetDescription = target.description;
    e.targetVoxels = target.voxelCount;
    e.scoreOn = model.card().outputsProbabilities ? "probabilities" : "logits";
    e.warnings = target.warnings;
    return e;
}

} // namespace segxai
