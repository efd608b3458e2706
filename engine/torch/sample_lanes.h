#pragma once
// Engine-internal: a batch's samples split between the cores. A batch of B whole-volume
// passes on T cores runs as min(B, T) lanes, each a thread of its own with T / lanes of
// LibTorch's threads, each on its share of the samples, all at once. LibTorch spreads one
// convolution over its threads less well than separate samples spread over cores: on the
// peer benchmark's UNet (64^3, 2 cores) a forward and backward of 8 samples took 0.64-0.70 s
// with 2 threads and 0.58-0.59 s as 2 lanes of 4 (docs/performance.md#sample-lanes).
#include <cstdint>
#include <functional>
#include <mutex>
#include <torch/torch.h>
#include <vector>

namespace segxai {

class Model;

// How many lanes a batch of `samples` whole-volume passes of `model` runs in: one on a GPU,
// on one core, for a single sample, or within a lane (a lane's passes are not split again);
// otherwise min(samples, cores). SEGXAI_SAMPLE_LANES=1 in the environment runs every batch as
// one lane (for comparison).
int sampleLanes(const Model& model, int64_t samples);

// Lane `lane` of `lanes`: its samples [first, first + count) of `samples`.
struct LaneShare {
    int64_t first = 0;
    int64_t count = 0;
};
LaneShare laneShare(int64_t samples, int lanes, int lane);

// Runs work(lane, share) for every lane, lane 0 on the calling thread and the others on threads
// of their own, at once, each with its share of the compute threads and the calling thread's
// LibTorch state (autograd and inference modes). The model's forward lock is taken once for
// all of them, so their forwards run side by side (a TorchScript module's forward is safe to
// run concurrently as long as it writes no state of its own: pytorch/pytorch#51452; models run
// in eval mode). Every lane finishes before the first lane's exception is rethrown.
void runInLanes(const Model& model, int64_t samples, int lanes,
                const std::function<void(int lane, LaneShare share)>& work);

// perSample(part) of each lane's part of `inputs` [B, ...] (one result per sample), joined in
// the samples' order: a batch of forwards split between the cores.
template <class PerSample>
std::vector<PerSample> joinedOverLanes(const Model& model, const torch::Tensor& inputs, int lanes,
                                       const std::function<std::vector<PerSample>(const torch::Tensor&)>& perSample) {
    std::vector<std::vector<PerSample>> parts(static_cast<size_t>(lanes));
    runInLanes(model, inputs.size(0), lanes, [&](int lane, LaneShare share) {
        parts[size_t(lane)] = perSample(inputs.slice(0, share.first, share.first + share.count));
    });
    std::vector<PerSample> joined;
    for (auto& part : parts)
        joined.insert(joined.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    return joined;
}

} // namespace segxai
