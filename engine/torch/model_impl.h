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
    // TorchScript modules are not documented as safe for concurrent forwards; engine jobs
    // that run the model hold this.
    mutable std::mutex mutex;
    // Rewritten forward graphs per layer path, built once (engine/torch/layer_capture.h).
    mutable std::map<std::string, std::shared_ptr<const LayerCapture>> captures;
    mutable std::mutex captureMutex;
};

} // namespace segxai
