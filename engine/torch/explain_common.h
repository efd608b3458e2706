#pragma once
// Engine-internal: what the explanation methods share (engine/torch/explain.cpp and the
// files that explain many targets at once).
#include "engine/explain/explanation.h"
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/model/model_input.h"
#include "engine/torch/gradient_pass.h"

#include <chrono>
#include <fmt/format.h>
#include <torch/torch.h>

namespace segxai {

using Clock = std::chrono::steady_clock;

// Everything the methods share: the model input, the target on the model grid.
struct Problem {
    const Model& model;
    const Study& study;
    ModelInput input;
    torch::Tensor x; // [1, C, X, Y, Z]
    ScoreTarget target;
    bool reverseAxes = false;
};

// Per-sample memory of a computation, from running its first sample alone.
template <typename Run> uint64_t measureOneSample(Run&& run) {
    PeakMemoryProbe probe;
    run();
    return probe.growthBytes();
}

// Inputs of a batch in `count` items from `first`, made by `make(index)` ([1, C, ...] each).
template <typename Make> torch::Tensor batchOf(int64_t first, int64_t count, Make&& make) {
    std::vector<torch::Tensor> items;
    for (int64_t n = first; n < first + count; ++n) items.push_back(make(n));
    return torch::cat(items, 0);
}

// Runs `total` samples in batches sized to the memory budget (or the user's batch size):
// the first sample alone, measured, then the rest. `run(first, count)` does the work.
template <typename Run>
void inBatches(int64_t total, int requested, JobContext* job, const char* stage, Run&& run) {
    int64_t done = 0;
    int batch = requested;
    if (batch <= 0) {
        const uint64_t perSample = measureOneSample([&] { run(0, 1); });
        done = 1;
        batch = batchForBudget(perSample, 16);
    }
    while (done < total) {
        if (job) {
            job->throwIfStopped();
            job->progress(float(done) / float(total), fmt::format("{} {} of {}", stage, done + 1, total));
        }
        const int64_t count = std::min<int64_t>(batch, total - done);
        run(done, count);
        done += count;
    }
    if (job) job->progress(1.0f, stage);
}

double secondsSince(Clock::time_point start);

torch::Tensor gaussianBlur(const torch::Tensor& x, const Geometry& grid, double sigmaMm, bool reverse);

// The input a baseline stands for: zeros, a value, each channel's minimum, or the blurred input.
torch::Tensor baselineFor(const Problem& p, const Baseline& b);

// The grid of a layer's activation in the world: layer voxel u covers input voxels
// [u s, (u + 1) s) of the padded input (align_corners = false), s = padded / layer size.
Geometry layerGrid(const Geometry& modelGrid, const PassResult& pass, bool reverse);

// Max or min-max normalisation in place (none leaves it).
void normalise(Volume& v, Normalize n);

// A model-grid map [X, Y, Z] as a volume on the model's grid.
Volume toVolume(const Problem& p, const torch::Tensor& map, const std::string& name, Normalize normalize);

// One map per input channel of [C, X, Y, Z] maps, named method_channel.
std::vector<ExplanationMap> perChannel(const Problem& p, const torch::Tensor& maps, const std::string& method,
                                       Normalize normalize, bool signedValues);

// An explanation of `target` with its method, parameters and target fields filled in.
Explanation base(Method method, const ExplainParameters& parameters, const Target& target, const Model& model);

} // namespace segxai
