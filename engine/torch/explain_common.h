#pragma once
// Engine-internal: what the explanation methods, the metrics and the lesion explainer share:
// the problem set-up, the CAM layer, SmoothGrad's seeded noise, batching, progress shares and
// turning tensors into maps.
#include "engine/core/job_runner.h"
#include "engine/core/memory_budget.h"
#include "engine/core/seed_streams.h"
#include "engine/explain/explanation.h"
#include "engine/model/model_input.h"
#include "engine/model/nnunet_preprocess.h"
#include "engine/torch/gradient_pass.h"

#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <torch/torch.h>

namespace segxai {

using Clock = std::chrono::steady_clock;

// What every method of one explanation works on: the study as the model sees it and the
// targets on the model's grid.
struct ExplanationProblem {
    const Model& model;
    const Study& study;
    const std::vector<Target>& targets;    // as the caller gave them (names, warnings)
    ModelInput input;                      // the model's grid (the channels go once in x)
    torch::Tensor x;                       // the study there, normalised: [1, C, X, Y, Z]
    std::vector<ScoreTarget> scoreTargets; // one per target: its weights on the model's grid
    bool reverseAxes = false;              // the tensors' spatial axes are (z, y, x)

    size_t targetCount() const { return scoreTargets.size(); }
};

// The problem of explaining `targets` of `study` (each target's mask on the study's grid).
// `targets` must outlive the problem. Reports "preparing the input" to `job`. Throws
// segxai::Error when a target does not belong to the study or the input cannot be prepared.
ExplanationProblem makeProblem(const Model& model, const Study& study, const std::vector<Target>& targets,
                               JobContext* job);

// The study as the model sees it, made once for the problems of any number of targets: the
// model's grid, the normalised input tensor and, for nnU-Net folders, how the study was
// preprocessed (which maps a target's mask onto the networks' grid).
struct ProblemInput {
    Geometry grid;
    torch::Tensor x; // [1, C, X, Y, Z]
    bool reverseAxes = false;
    std::optional<NnunetCase> nnunetRecipe;
};
// Throws segxai::Error when the input cannot be prepared.
ProblemInput prepareProblemInput(const Model& model, const Study& study, JobContext* job);
// The problem of `targets` on an input made by prepareProblemInput() of `study` (which may have
// let go of its voxels since: only its geometry and channel names are read). Throws
// segxai::Error when a target does not belong to the study.
ExplanationProblem problemOn(const Model& model, const Study& study, const ProblemInput& input,
                             const std::vector<Target>& targets);

// The layer CAM methods capture: `requested`, or else the model's default (defaultCamLayer).
// Throws segxai::Error when the model has no layer that could serve.
std::string camLayerFor(const ExplanationProblem& p, const std::string& requested);

// A LibTorch generator on `stream` (engine/core/seed_streams.h), for its sample `sample`.
at::Generator streamGenerator(uint64_t seed, SeedStream stream, uint64_t sample = 0);

// SmoothGrad's noise: `samples` noisy inputs with sigma = fraction * (max - min) per input
// channel, sample n drawn from its own generator (seeded from (seed, n)), so the noise does
// not depend on how samples are batched.
struct SmoothGradNoise {
    int samples = 0;
    double fraction = 0.0;
    uint64_t seed = 0;
    NoiseSampling sampling = NoiseSampling::Independent;
};

// Each target's input gradients [count, C, X, Y, Z] for the noisy inputs first..first+count.
using NoisyGradients = std::function<void(int64_t first, int64_t count, const std::vector<torch::Tensor>& gradients)>;

// Runs SmoothGrad's noisy inputs in batches (of `batch`, or sized to the memory budget):
// each batch is forwarded once and back-propagated once per target of `targets`; `use` gets
// the gradients. Progress "SmoothGrad sample n of N" to `job`. Throws segxai::Error (a
// forward that fails) and JobCancelled.
void forEachNoisyBatch(const ExplanationProblem& p, const std::vector<ScoreTarget>& targets,
                       const SmoothGradNoise& noise, int batch, JobContext* job, const NoisyGradients& use);

// Per-sample memory of a computation, from running its first sample alone.
template <typename Run> uint64_t measureOneSample(Run&& run) {
    PeakMemoryProbe probe;
    run();
    return probe.growthBytes();
}

// Inputs of a batch in `count` items from `first`, made by `make(index)` ([1, C, ...] each).
template <typename Make> torch::Tensor batchOf(int64_t first, int64_t count, Make&& make) {
    std::vector<torch::Tensor> items;
    for (int64_t n = first; n < first + count; ++n)
        items.push_back(make(n));
    return torch::cat(items, 0);
}

// Runs `total` samples in batches sized to the memory budget (or the user's batch size):
// the first sample alone, measured, then the rest. `run(first, count)` does the work.
template <typename Run> void inBatches(int64_t total, int requested, JobContext* job, const char* stage, Run&& run) {
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

// A job's progress split into consecutive shares of a total amount of work.
class JobShares {
public:
    JobShares(JobContext* job, double total) : m_job(job), m_total(total) {}
    // The sub-job for the next `share` of the work (none without a job). Throws JobCancelled
    // when a stop was requested.
    std::optional<JobContext> next(double share);
    // The share of the work done so far, 0..1.
    float done() const { return float(m_done / m_total); }

private:
    JobContext* m_job;
    double m_total;
    double m_done = 0.0;
};

// The sub-job's address, or null without one (the methods take JobContext*).
inline JobContext* orNull(std::optional<JobContext>& job) {
    return job ? &*job : nullptr;
}

double secondsSince(Clock::time_point start);

torch::Tensor gaussianBlur(const torch::Tensor& x, const Geometry& grid, double sigmaMm, bool reverse);

// The input a baseline stands for: zeros, a value, each channel's minimum, or the blurred
// input.
torch::Tensor baselineFor(const ExplanationProblem& p, const Baseline& b);

// The grid of a layer's activation in the world: layer voxel u covers input voxels
// [u s, (u + 1) s) of the padded input (align_corners = false), s = padded / layer size.
Geometry layerGrid(const Geometry& modelGrid, const PassResult& pass, bool reverse);

// Max or min-max normalisation in place (none leaves it).
void normalise(Volume& v, Normalize n);

// A model-grid map [X, Y, Z] as a volume on the model's grid.
Volume toVolume(const ExplanationProblem& p, const torch::Tensor& map, const std::string& name, Normalize normalize);

// One map per input channel of [C, X, Y, Z] maps, named method_channel.
std::vector<ExplanationMap> perChannel(const ExplanationProblem& p, const torch::Tensor& maps,
                                       const std::string& method, Normalize normalize, bool signedValues);

// An explanation of `target` by `method` before it is computed: method, parameters and the
// target's fields filled in, no maps or score yet.
Explanation explanationWithoutMaps(Method method, const ExplainParameters& parameters, const Target& target,
                                   const Model& model);
// The same for every target of `p`, in its order.
std::vector<Explanation> explanationsWithoutMaps(const ExplanationProblem& p, Method method,
                                                 const ExplainParameters& parameters);

} // namespace segxai
