#include "engine/torch/sliding_window.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/torch/tensors.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai {
namespace {

std::vector<int64_t> axisStarts(int64_t size, int64_t patch, double overlap, int64_t alignment) {
    if (size <= patch) return {0};
    int64_t interval = std::max<int64_t>(1, int64_t(double(patch) * (1.0 - overlap)));
    if (alignment > 1) interval = std::max(alignment, interval / alignment * alignment);
    std::vector<int64_t> starts;
    for (int64_t s = 0;; s += interval) {
        const int64_t start = std::min(s, size - patch);
        if (starts.empty() || starts.back() != start) starts.push_back(start);
        if (start + patch >= size) break;
    }
    return starts;
}

torch::Tensor importanceMap(const std::array<int64_t, 3>& patch, const SlidingWindow& window) {
    if (!window.gaussian) return torch::ones({patch[0], patch[1], patch[2]});
    std::vector<torch::Tensor> axes;
    for (int a = 0; a < 3; ++a) {
        const double centre = double(patch[size_t(a)] - 1) / 2.0;
        const double sigma = std::max(1e-6, double(patch[size_t(a)]) * window.sigmaScale);
        torch::Tensor x = torch::arange(patch[size_t(a)], torch::kFloat64);
        axes.push_back(torch::exp(-0.5 * ((x - centre) / sigma).pow(2)));
    }
    torch::Tensor map = axes[0].view({-1, 1, 1}) * axes[1].view({1, -1, 1}) * axes[2].view({1, 1, -1});
    map = map / map.max();
    // No window voxel may weigh zero: the smallest positive weight stands in (as MONAI).
    const double smallest = map.masked_select(map > 0).min().item<double>();
    return map.clamp_min(smallest).to(torch::kFloat32);
}

constexpr int64_t kClassesPerStep = 8;

// The zeroed sums of `classes` outputs over a grid of `size`, in float32 or half precision.
torch::Tensor windowSums(int64_t classes, const std::array<int64_t, 3>& size, const WindowSums& sums) {
    const uint64_t voxels = uint64_t(size[0]) * uint64_t(size[1]) * uint64_t(size[2]);
    const uint64_t floatBytes = uint64_t(classes) * voxels * 4;
    const bool half = floatBytes > sums.halfAboveBytes;
    const uint64_t needed = half ? floatBytes / 2 : floatBytes, available = availableMemoryBytes();
    auto gb = [](uint64_t bytes) { return double(bytes) / double(1ull << 30); };
    if (available && needed > available) {
        throw Error(fmt::format("the blended windows of {} classes x {} voxels need {:.1f} GB{} and {:.1f} GB are "
                                "available",
                                classes, voxels, gb(needed), half ? " in half precision" : "", gb(available)));
    }
    if (!half) return torch::zeros({classes, size[0], size[1], size[2]});
    if (sums.note) {
        *sums.note = fmt::format("windows summed in half precision, as nnU-Net does ({} classes x {} voxels: {:.1f} "
                                 "GB instead of {:.1f} GB in float32)",
                                 classes, voxels, gb(needed), gb(floatBytes));
    }
    return torch::zeros({classes, size[0], size[1], size[2]}, torch::kHalf);
}

} // namespace

WindowPlan planWindows(const std::array<int64_t, 3>& size, const SlidingWindow& window, int64_t alignment) {
    WindowPlan plan;
    plan.patch = window.patch;
    const auto xs = axisStarts(size[0], plan.patch[0], window.overlap, alignment);
    const auto ys = axisStarts(size[1], plan.patch[1], window.overlap, alignment);
    const auto zs = axisStarts(size[2], plan.patch[2], window.overlap, alignment);
    for (int64_t x : xs)
        for (int64_t y : ys)
            for (int64_t z : zs)
                plan.starts.push_back({x, y, z});
    plan.importance = importanceMap(plan.patch, window);
    return plan;
}

torch::Tensor slidingWindowForward(const torch::Tensor& input, const SlidingWindow& window,
                                   const std::function<torch::Tensor(const torch::Tensor&)>& forward, JobContext* job,
                                   int64_t batchSize, const WindowSums& sums) {
    Padding padding;
    const torch::Tensor padded = padSpatial(input, 1, padding, window.patch);
    const std::array<int64_t, 3> size{padded.size(2), padded.size(3), padded.size(4)};
    const WindowPlan plan = planWindows(size, window);
    const auto& p = plan.patch;
    torch::Tensor sum, weight; // weight: the importance sums, for float32 sums only
    const torch::Tensor importance = plan.importance;
    const size_t count = plan.starts.size();
    auto region = [&](const torch::Tensor& t, int64_t offset, const std::array<int64_t, 3>& s) {
        return t.slice(offset, s[0], s[0] + p[0])
            .slice(offset + 1, s[1], s[1] + p[1])
            .slice(offset + 2, s[2], s[2] + p[2]);
    };
    // Half-precision sums hold each window's share of the final blend (its importance over the
    // total there, known before any window runs): the sums stay of the outputs' magnitude, where
    // half precision is finest, rather than growing with the number of windows that overlap.
    torch::Tensor total;
    for (size_t first = 0; first < count; first += size_t(batchSize)) {
        if (job) {
            job->throwIfStopped();
            job->progress(float(first) / float(count), fmt::format("window {} of {}", first + 1, count));
        }
        const size_t last = std::min(count, first + size_t(batchSize));
        std::vector<torch::Tensor> windows;
        for (size_t w = first; w < last; ++w) {
            const auto& s = plan.starts[w];
            windows.push_back(
                padded[0].slice(1, s[0], s[0] + p[0]).slice(2, s[1], s[1] + p[1]).slice(3, s[2], s[2] + p[2]));
        }
        const torch::Tensor out = forward(torch::stack(windows)).to(torch::kCPU, torch::kFloat32);
        if (!sum.defined()) {
            sum = windowSums(out.size(1), size, sums);
            if (sum.scalar_type() == torch::kHalf) {
                total = torch::zeros({size[0], size[1], size[2]});
                for (const auto& s : plan.starts)
                    region(total, 0, s) += importance;
            } else {
                weight = torch::zeros({size[0], size[1], size[2]});
            }
        }
        for (size_t w = first; w < last; ++w) {
            const auto& s = plan.starts[w];
            if (total.defined()) {
                // A few classes at a time: the temporaries stay small beside the sums.
                const torch::Tensor share = importance / region(total, 0, s);
                const torch::Tensor window = out[int64_t(w - first)];
                for (int64_t k = 0; k < window.size(0); k += kClassesPerStep) {
                    const int64_t end = std::min(window.size(0), k + kClassesPerStep);
                    region(sum.slice(0, k, end), 1, s) += (window.slice(0, k, end) * share).to(torch::kHalf);
                }
            } else {
                region(sum, 1, s) += out[int64_t(w - first)] * importance;
                region(weight, 0, s) += importance;
            }
        }
    }
    if (job) job->progress(1.0f, "windows blended");
    if (!total.defined()) sum.div_(weight);
    return cropSpatial(sum.unsqueeze(0), padding);
}

} // namespace segxai
