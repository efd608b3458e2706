#include "engine/torch/sample_lanes.h"

#include "engine/model/device.h"
#include "engine/torch/model_impl.h"

#include <ATen/ThreadLocalState.h>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <future>
#include <vector>

namespace segxai {
namespace {

// The model whose forward lock the runner of this thread's lane holds.
thread_local const Model::Impl* t_laneOf = nullptr;

// Marks the calling thread as a lane of `model`'s batch for its lifetime.
class LaneOf {
public:
    explicit LaneOf(const Model::Impl& model) : m_outer(t_laneOf) { t_laneOf = &model; }
    ~LaneOf() { t_laneOf = m_outer; }
    LaneOf(const LaneOf&) = delete;
    LaneOf& operator=(const LaneOf&) = delete;

private:
    const Model::Impl* m_outer;
};

bool lanesDisabled() {
    const char* value = std::getenv("SEGXAI_SAMPLE_LANES");
    return value != nullptr && std::atoi(value) == 1;
}

} // namespace

std::unique_lock<std::mutex> lockForForward(const Model::Impl& model) {
    if (t_laneOf == &model) return {};
    return std::unique_lock(model.mutex);
}

int sampleLanes(const Model& model, int64_t samples) {
    static const bool disabled = lanesDisabled();
    const ComputeDevice& device = computeDevice();
    if (disabled || t_laneOf != nullptr || model.impl().device.is_cuda() || device.threads < 2 || samples < 2) return 1;
    return int(std::min<int64_t>(samples, device.threads));
}

LaneShare laneShare(int64_t samples, int lanes, int lane) {
    const int64_t base = samples / lanes, extra = samples % lanes;
    return {lane * base + std::min<int64_t>(lane, extra), base + (lane < extra ? 1 : 0)};
}

void runInLanes(const Model& model, int64_t samples, int lanes,
                const std::function<void(int lane, LaneShare share)>& work) {
    const int threads = computeDevice().threads;
    const at::ThreadLocalState state;
    const std::unique_lock forwards = lockForForward(model.impl());
    auto runLane = [&](int lane) {
        const at::ThreadLocalStateGuard sameState(state);
        const LaneOf laneOf(model.impl());
        const ComputeThreadsScope laneThreads(threads / lanes + (lane < threads % lanes ? 1 : 0));
        work(lane, laneShare(samples, lanes, lane));
    };
    std::vector<std::future<void>> others;
    for (int lane = 1; lane < lanes; ++lane)
        others.push_back(std::async(std::launch::async, runLane, lane));
    std::exception_ptr failure;
    try {
        runLane(0);
    } catch (...) {
        failure = std::current_exception();
    }
    for (auto& other : others) {
        try {
            other.get();
        } catch (...) {
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

} // namespace segxai
