#include "engine/torch/sliding_window.h"

#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/torch/tensors.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>

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

// Zeroed sums of `classes` outputs over `grid` ([classes, grid...]) in float32, or in half
// precision when float32 would exceed `sums.halfAboveBytes`; refused when the system has less.
torch::Tensor zeroSums(int64_t classes, const std::array<int64_t, 3>& grid, const WindowSums& sums) {
    const uint64_t voxels = uint64_t(grid[0]) * uint64_t(grid[1]) * uint64_t(grid[2]);
    const uint64_t floatBytes = uint64_t(classes) * voxels * 4;
    const bool half = floatBytes > sums.halfAboveBytes;
    const uint64_t needed = half ? floatBytes / 2 : floatBytes, available = availableMemoryBytes();
    auto gb = [](uint64_t bytes) { return double(bytes) / double(1ull << 30); };
    if (available && needed > available) {
        throw Error(fmt::format("the blended windows of {} classes x {} voxels need {:.1f} GB{} and {:.1f} GB are "
                                "available",
                                classes, voxels, gb(needed), half ? " in half precision" : "", gb(available)));
    }
    if (!half) return torch::zeros({classes, grid[0], grid[1], grid[2]});
    if (sums.note) {
        *sums.note = fmt::format("windows summed in half precision, as nnU-Net does ({} classes x {} voxels: {:.1f} "
                                 "GB instead of {:.1f} GB in float32)",
                                 classes, voxels, gb(needed), gb(floatBytes));
    }
    return torch::zeros({classes, grid[0], grid[1], grid[2]}, torch::kHalf);
}

// The windows' frame: spatial axes reordered so that the longest comes first (slabs run along
// it, and the windows are planned in this frame so that they advance along it last to first).
struct SlabFrame {
    std::array<int64_t, 3> order{}; // frame axis a is input axis order[a]

    explicit SlabFrame(const std::array<int64_t, 3>& size) {
        const int64_t longest = int64_t(std::max_element(size.begin(), size.end()) - size.begin());
        order = {longest, (longest + 1) % 3, (longest + 2) % 3};
    }
    template <typename T> std::array<T, 3> reorder(const std::array<T, 3>& v) const {
        return {v[size_t(order[0])], v[size_t(order[1])], v[size_t(order[2])]};
    }
    // [B, K, input axes] -> [B, K, frame axes], and back.
    torch::Tensor toFrame(const torch::Tensor& t) const {
        return t.permute({0, 1, 2 + order[0], 2 + order[1], 2 + order[2]});
    }
    torch::Tensor fromFrame(const torch::Tensor& t) const {
        std::array<int64_t, 3> inverse{};
        for (int64_t a = 0; a < 3; ++a)
            inverse[size_t(order[size_t(a)])] = a;
        return t.permute({0, 1, 2 + inverse[0], 2 + inverse[1], 2 + inverse[2]});
    }
};

// The sums of the windows' rows along the frame's first axis, as a ring as deep as the patch:
// global row r lives in ring row r % depth. A window covers `depth` consecutive rows, so it
// fills every ring row once; rows are emitted and zeroed once no later window reaches them.
class SlabRing {
public:
    explicit SlabRing(torch::Tensor sums) : m_sums(std::move(sums)), m_depth(m_sums.size(1)) {}

    // Adds `values` ([K, depth, y, z]) times `share` ([depth, y, z]) to global rows
    // [row, row + depth) at (y0, z0): in place in float32; a few classes at a time through one
    // reused float32 buffer in half precision (no allocation per window).
    void add(const torch::Tensor& values, const torch::Tensor& share, int64_t row, int64_t y0, int64_t z0) {
        const int64_t split = row % m_depth, y = values.size(2), z = values.size(3);
        auto into = [&](int64_t ringRow, int64_t from, int64_t rows) {
            if (rows == 0) return;
            torch::Tensor target = m_sums.slice(1, ringRow, ringRow + rows).slice(2, y0, y0 + y).slice(3, z0, z0 + z);
            const torch::Tensor rowsShare = share.slice(0, from, from + rows);
            const torch::Tensor rowsValues = values.slice(1, from, from + rows);
            if (m_sums.scalar_type() == torch::kFloat32) {
                target.addcmul_(rowsValues, rowsShare);
                return;
            }
            for (int64_t k = 0; k < values.size(0); k += kClassesPerStep) {
                const int64_t end = std::min(values.size(0), k + kClassesPerStep);
                const int64_t elements = (end - k) * rows * y * z;
                if (m_scratch.numel() < elements) m_scratch = torch::empty({elements});
                torch::Tensor product = m_scratch.narrow(0, 0, elements).view({end - k, rows, y, z});
                torch::mul_out(product, rowsValues.slice(0, k, end), rowsShare);
                target.slice(0, k, end).add_(product);
            }
        };
        into(split, 0, m_depth - split);
        into(0, m_depth - split, split);
    }

    // Hands rows [first, end) to `emit` (float32 [K, n, Y, Z] with the global first row) one
    // row at a time (so the float32 copies stay small), then zeroes them for the rows that come
    // next.
    template <typename Emit> void release(int64_t first, int64_t end, Emit&& emit) {
        constexpr int64_t kRowsPerSlab = 1;
        while (first < end) {
            const int64_t at = first % m_depth, rows = std::min({end - first, m_depth - at, kRowsPerSlab});
            torch::Tensor part = m_sums.slice(1, at, at + rows);
            emit(part.to(torch::kFloat32), first);
            part.zero_();
            first += rows;
        }
    }

private:
    torch::Tensor m_sums, m_scratch;
    int64_t m_depth;
};

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

void slidingWindowSlabs(const torch::Tensor& input, const SlidingWindow& window, const WindowModelForward& forward,
                        JobContext* job, int64_t batchSize, const WindowSums& sums, const SlabSink& sink) {
    Padding padding;
    const torch::Tensor padded = padSpatial(input, 1, padding, window.patch);
    const SlabFrame frame({padded.size(2), padded.size(3), padded.size(4)});
    const torch::Tensor framed = frame.toFrame(padded);
    const std::array<int64_t, 3> size{framed.size(2), framed.size(3), framed.size(4)};
    SlidingWindow framedWindow = window;
    framedWindow.patch = frame.reorder(window.patch);
    const WindowPlan plan = planWindows(size, framedWindow);
    const auto& p = plan.patch;
    auto region = [&](const torch::Tensor& t, int64_t offset, const std::array<int64_t, 3>& s) {
        return t.slice(offset, s[0], s[0] + p[0])
            .slice(offset + 1, s[1], s[1] + p[1])
            .slice(offset + 2, s[2], s[2] + p[2]);
    };
    // Each window adds its share of the final blend (its importance over the total there, known
    // before any window runs), so finished rows need no division and half-precision sums stay of
    // the outputs' magnitude, where half precision is finest.
    const torch::Tensor importance = plan.importance;
    torch::Tensor total = torch::zeros({size[0], size[1], size[2]});
    for (const auto& s : plan.starts)
        region(total, 0, s) += importance;
    // The rows a slab covers, cropped to the unpadded input.
    const std::array<int64_t, 3> before = frame.reorder(padding.before), extent = frame.reorder(padding.size);
    auto emit = [&](const torch::Tensor& rows, int64_t first) {
        const int64_t from = std::max(first, before[0]), to = std::min(first + rows.size(1), before[0] + extent[0]);
        if (from >= to) return;
        const torch::Tensor cropped = rows.slice(1, from - first, to - first)
                                          .narrow(2, before[1], extent[1])
                                          .narrow(3, before[2], extent[2])
                                          .unsqueeze(0);
        sink({frame.fromFrame(cropped), int(frame.order[0]), from - before[0]});
    };
    std::optional<SlabRing> ring;
    int64_t released = 0; // rows before this one are emitted
    const size_t count = plan.starts.size();
    for (size_t first = 0; first < count; first += size_t(batchSize)) {
        if (job) {
            job->throwIfStopped();
            job->progress(float(first) / float(count), fmt::format("window {} of {}", first + 1, count));
        }
        // Rows no window from here on reaches are emitted before the forward, while its buffers
        // are free for the emitted rows' temporaries (after it, they would add to its peak).
        if (ring && plan.starts[first][0] > released) {
            ring->release(released, plan.starts[first][0], emit);
            released = plan.starts[first][0];
        }
        const size_t last = std::min(count, first + size_t(batchSize));
        std::vector<torch::Tensor> windows;
        for (size_t w = first; w < last; ++w)
            windows.push_back(frame.fromFrame(region(framed, 2, plan.starts[w])));
        const torch::Tensor out =
            frame.toFrame(forward(torch::cat(windows).contiguous()).to(torch::kCPU, torch::kFloat32));
        if (!ring) ring.emplace(zeroSums(out.size(1), {p[0], size[1], size[2]}, sums));
        for (size_t w = first; w < last; ++w) {
            const auto& s = plan.starts[w];
            if (s[0] > released) {
                ring->release(released, s[0], emit);
                released = s[0];
            }
            ring->add(out[int64_t(w - first)], importance / region(total, 0, s), s[0], s[1], s[2]);
        }
    }
    if (ring) ring->release(released, size[0], emit);
    ring.reset();
    // The windows' buffers, kept for the next window of their size, go back before the work
    // that follows (resampling, writing) asks for buffers of other sizes.
    releaseFreedMemory();
    if (job) job->progress(1.0f, "windows blended");
}

torch::Tensor slidingWindowForward(const torch::Tensor& input, const SlidingWindow& window,
                                   const WindowModelForward& forward, JobContext* job, int64_t batchSize,
                                   const WindowSums& sums) {
    const std::array<int64_t, 3> size{input.size(2), input.size(3), input.size(4)};
    torch::Tensor out;
    slidingWindowSlabs(input, window, forward, job, batchSize, sums, [&](const OutputSlab& slab) {
        if (!out.defined()) out = zeroSums(slab.values.size(1), size, sums).unsqueeze(0);
        out.narrow(2 + slab.axis, slab.first, slab.values.size(2 + slab.axis)).copy_(slab.values);
    });
    return out;
}

} // namespace segxai
