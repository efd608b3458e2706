#include "engine/torch/nnunet_predict.h"

#include "engine/core/error.h"
#include "engine/core/half.h"
#include "engine/core/job_runner.h"

#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

using Shape = std::array<int64_t, 3>;

int64_t voxelsOf(const Shape& s) {
    return s[0] * s[1] * s[2];
}

// One fold's sliding window over the padded input, accumulated in half precision.
struct Accumulator {
    Shape size;
    int64_t heads;
    std::vector<uint16_t> logits, weights;

    Accumulator(const Shape& s, int64_t k)
        : size(s), heads(k), logits(size_t(k * voxelsOf(s)), 0), weights(size_t(voxelsOf(s)), 0) {}

    // predicted_logits[sl] += prediction * gaussian; n_predictions[sl] += gaussian (each sum
    // computed in float and rounded to half, as LibTorch does for half tensors).
    void add(const float* prediction, const Shape& start, const Shape& patch, const std::vector<uint16_t>& gaussian) {
        const int64_t windowVoxels = voxelsOf(patch), volumeVoxels = voxelsOf(size);
        for (int64_t k = 0; k < heads; ++k) {
            const float* p = prediction + k * windowVoxels;
            uint16_t* out = logits.data() + k * volumeVoxels;
            forEachWindowVoxel(start, patch, [&](int64_t w, int64_t v) {
                const float weighted = p[w] * halfToFloat(gaussian[size_t(w)]);
                out[v] = floatToHalf(halfToFloat(out[v]) + weighted);
            });
        }
        forEachWindowVoxel(start, patch, [&](int64_t w, int64_t v) {
            weights[size_t(v)] = floatToHalf(halfToFloat(weights[size_t(v)]) + halfToFloat(gaussian[size_t(w)]));
        });
    }

    template <typename Visit> void forEachWindowVoxel(const Shape& start, const Shape& patch, Visit&& visit) const {
        int64_t w = 0;
        for (int64_t x = 0; x < patch[0]; ++x)
            for (int64_t y = 0; y < patch[1]; ++y) {
                int64_t v = ((start[0] + x) * size[1] + start[1] + y) * size[2] + start[2];
                for (int64_t z = 0; z < patch[2]; ++z)
                    visit(w++, v++);
            }
    }

    // predicted_logits / n_predictions, cropped to the unpadded box.
    std::vector<uint16_t> result(const Shape& before, const Shape& inner) const {
        std::vector<uint16_t> out(size_t(heads * voxelsOf(inner)));
        size_t n = 0;
        for (int64_t k = 0; k < heads; ++k)
            for (int64_t x = 0; x < inner[0]; ++x)
                for (int64_t y = 0; y < inner[1]; ++y)
                    for (int64_t z = 0; z < inner[2]; ++z) {
                        const int64_t v = ((before[0] + x) * size[1] + before[1] + y) * size[2] + before[2] + z;
                        const float sum = halfToFloat(logits[size_t(k * voxelsOf(size) + v)]);
                        const float weight = halfToFloat(weights[size_t(v)]);
                        const float value = sum / weight;
                        if (std::isinf(value))
                            throw Error("nnU-Net's half-precision accumulation overflowed (infinite logits)");
                        out[n++] = floatToHalf(value);
                    }
        return out;
    }
};

} // namespace

std::vector<std::vector<int64_t>> NnunetEnsemble::mirrorCombinations() const {
    std::vector<std::vector<int64_t>> out;
    if (!mirroring || !mirrorAxes || mirrorAxes->empty()) return out;
    const auto& axes = *mirrorAxes;
    // itertools.combinations(axes, r) for r = 1..n, in that order.
    const size_t n = axes.size();
    for (size_t r = 1; r <= n; ++r) {
        std::vector<size_t> pick(r);
        for (size_t i = 0; i < r; ++i)
            pick[i] = i;
        while (true) {
            std::vector<int64_t> dims;
            for (size_t i : pick)
                dims.push_back(axes[i] + 2);
            out.push_back(dims);
            size_t i = r;
            while (i > 0 && pick[i - 1] == i - 1 + n - r)
                --i;
            if (i == 0) break;
            ++pick[i - 1];
            for (size_t j = i; j < r; ++j)
                pick[j] = pick[j - 1] + 1;
        }
    }
    return out;
}

torch::Tensor nnunetMemberMean(const NnunetEnsemble& e, const torch::Tensor& batch) {
    const auto mirrors = e.mirrorCombinations();
    torch::Tensor sum;
    for (const auto& fold : e.folds) {
        auto& network = const_cast<torch::jit::Module&>(fold);
        torch::Tensor out = network.forward({batch}).toTensor();
        for (const auto& dims : mirrors)
            out = out + torch::flip(network.forward({torch::flip(batch, dims)}).toTensor(), dims);
        sum = sum.defined() ? sum + out : out;
    }
    return sum / double(e.folds.size() * (mirrors.size() + 1));
}

std::vector<int64_t> nnunetWindowSteps(int64_t size, int64_t patch, double step) {
    const double target = double(patch) * step;
    const int64_t count = int64_t(std::ceil(double(size - patch) / target)) + 1;
    if (count <= 1) return {0};
    const double actual = double(size - patch) / double(count - 1);
    std::vector<int64_t> steps;
    for (int64_t i = 0; i < count; ++i)
        steps.push_back(int64_t(std::nearbyint(actual * double(i)))); // numpy's round: half to even
    return steps;
}

std::vector<uint16_t> nnunetGaussian(const Shape& patch) {
    // scipy's gaussian_filter of a unit impulse at patch // 2: per axis the kernel
    // exp(-x^2 / 2 sigma^2) normalised to sum 1 over radius int(4 sigma + 0.5), applied axis by
    // axis; then scaled so that the centre is 10, cast to half, zeros replaced by the smallest
    // non-zero value.
    std::array<std::vector<double>, 3> kernel;
    for (int a = 0; a < 3; ++a) {
        const double sigma = double(patch[size_t(a)]) / 8.0;
        const int64_t radius = int64_t(4.0 * sigma + 0.5);
        double sum = 0.0;
        for (int64_t x = -radius; x <= radius; ++x)
            sum += std::exp(-0.5 / (sigma * sigma) * double(x * x));
        const int64_t centre = patch[size_t(a)] / 2;
        for (int64_t i = 0; i < patch[size_t(a)]; ++i) {
            const int64_t d = i - centre;
            kernel[size_t(a)].push_back(std::abs(d) > radius ? 0.0
                                                             : std::exp(-0.5 / (sigma * sigma) * double(d * d)) / sum);
        }
    }
    const double peak =
        kernel[0][size_t(patch[0] / 2)] * kernel[1][size_t(patch[1] / 2)] * kernel[2][size_t(patch[2] / 2)];
    const double scale = peak / 10.0;
    std::vector<uint16_t> out;
    out.reserve(size_t(voxelsOf(patch)));
    uint16_t smallest = 0x7c00;
    for (int64_t x = 0; x < patch[0]; ++x)
        for (int64_t y = 0; y < patch[1]; ++y)
            for (int64_t z = 0; z < patch[2]; ++z) {
                const double v = kernel[0][size_t(x)] * kernel[1][size_t(y)] * kernel[2][size_t(z)] / scale;
                const uint16_t h = doubleToHalf(v);
                if (h != 0) smallest = std::min(smallest, h);
                out.push_back(h);
            }
    for (uint16_t& h : out)
        if (h == 0) h = smallest;
    return out;
}

std::vector<uint16_t> nnunetPredictLogits(const NnunetEnsemble& e, const torch::Tensor& input,
                                          const NnunetForward& forward, JobContext* job) {
    const Shape& patch = e.plan.patch;
    const Shape inner{input.size(2), input.size(3), input.size(4)};
    // pad_nd_image: axes smaller than the patch padded with zeros, the extra voxel at the end.
    Shape before{}, padded{};
    std::vector<int64_t> pads; // torch::constant_pad_nd order: last axis first
    for (int a = 0; a < 3; ++a) {
        const int64_t diff = std::max<int64_t>(0, patch[size_t(a)] - inner[size_t(a)]);
        before[size_t(a)] = diff / 2;
        padded[size_t(a)] = inner[size_t(a)] + diff;
    }
    for (int a = 2; a >= 0; --a) {
        const int64_t diff = padded[size_t(a)] - inner[size_t(a)];
        pads.push_back(diff / 2);
        pads.push_back(diff - diff / 2);
    }
    const torch::Tensor data = torch::constant_pad_nd(input, pads, 0.0);
    std::array<std::vector<int64_t>, 3> steps;
    for (int a = 0; a < 3; ++a)
        steps[size_t(a)] = nnunetWindowSteps(padded[size_t(a)], patch[size_t(a)], e.tileStep);
    const std::vector<uint16_t> gaussian = nnunetGaussian(patch);
    const auto mirrors = e.mirrorCombinations();
    const size_t windows = steps[0].size() * steps[1].size() * steps[2].size();
    const size_t total = windows * e.folds.size();
    std::vector<uint16_t> mean;
    size_t done = 0;
    for (size_t fold = 0; fold < e.folds.size(); ++fold) {
        Accumulator acc(padded, e.plan.labels.heads);
        for (int64_t x : steps[0])
            for (int64_t y : steps[1])
                for (int64_t z : steps[2]) {
                    if (job) {
                        job->throwIfStopped();
                        job->progress(float(done) / float(total),
                                      fmt::format("fold {}, window {} of {}", e.plan.folds[fold].name,
                                                  done % windows + 1, windows));
                    }
                    const torch::Tensor window =
                        data.slice(2, x, x + patch[0]).slice(3, y, y + patch[1]).slice(4, z, z + patch[2]).contiguous();
                    torch::Tensor p = forward(fold, window).to(torch::kCPU, torch::kFloat32);
                    for (const auto& dims : mirrors)
                        p += torch::flip(forward(fold, torch::flip(window, dims)).to(torch::kCPU, torch::kFloat32),
                                         dims);
                    if (!mirrors.empty()) p /= double(mirrors.size() + 1);
                    p = p.contiguous();
                    if (p.dim() != 5 || p.size(1) != e.plan.labels.heads)
                        throw Error(fmt::format("{}: the network returned {} channels, dataset.json has {} outputs",
                                                e.plan.folder, p.dim() == 5 ? p.size(1) : -1, e.plan.labels.heads));
                    acc.add(p.data_ptr<float>(), {x, y, z}, patch, gaussian);
                    ++done;
                }
        const std::vector<uint16_t> logits = acc.result(before, inner);
        if (mean.empty()) {
            mean = logits;
        } else {
            for (size_t n = 0; n < mean.size(); ++n)
                mean[n] = floatToHalf(halfToFloat(mean[n]) + halfToFloat(logits[n]));
        }
    }
    if (e.folds.size() > 1)
        for (uint16_t& v : mean)
            v = floatToHalf(halfToFloat(v) / float(e.folds.size()));
    if (job) job->progress(1.0f, "windows blended");
    return mean;
}

} // namespace segxai
