#pragma once
// Engine-internal: the torch side of Model. Include only from engine .cpp files.
#include "engine/model/model.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <torch/script.h>

namespace segxai {

class LayerCapture;
struct NnunetEnsemble;

struct Model::Impl {
    torch::jit::Module module; // eval mode; parameters do not require grad
    torch::Device device{torch::kCPU};
    ModelCard card;
    std::string path;
    int64_t inputChannels = -1;
    // Set for nnU-Net folders: the plan and every chosen fold's network (module is the first).
    std::shared_ptr<const NnunetEnsemble> nnunet;
    std::vector<std::string> notes; // said once in the log and in reports
    // Set by the first forward that returned a tuple or list (deep supervision): its first
    // output is used, said once in the log and in reports.
    mutable std::atomic<bool> tupleOutput{false};
    // nnU-Net ensembles: one single-fold model per fold, made on first use (CAMs per member).
    mutable std::vector<std::shared_ptr<const Model>> members;
    mutable std::mutex membersMutex;
    // Held for a forward (lockForForward): engine jobs run the model one forward at a time,
    // each forward on every core.
    mutable std::mutex mutex;
    // Rewritten forward graphs per layer path, built once (engine/torch/layer_capture.h).
    mutable std::map<std::string, std::shared_ptr<const LayerCapture>> captures;
    mutable std::mutex captureMutex;
};

// The model's lock for one forward. A lane of a batch split between the cores
// (engine/torch/sample_lanes.h) runs its forward beside the other lanes under the lock their
// runner took for all of them, and gets an empty lock here.
std::unique_lock<std::mutex> lockForForward(const Model::Impl& model);

} // namespace segxai
