// Reader for PyTorch checkpoints written by torch.save (the zip format of
// torch >= 1.6), without Python.  Objects LibTorch does not know (numpy
// scalars, torch.device, arbitrary classes) are kept as segxai::Opaque.
//
//   segxai::PickleValue root = segxai::readTorchCheckpoint("checkpoint_final.pth");
//   for (auto& [name, tensor] : segxai::stateDict(root, "network_weights")) ...
//   nlohmann::json plans = segxai::toJson(*segxai::find(root, "init_args"));
//
// The file is treated as untrusted: nothing in it is executed, and every
// malformed input ends in a CheckpointError naming the file.
#pragma once

#include "engine/torch/pickle_value.h"

#include <string>
#include <utility>
#include <vector>

namespace segxai {

// Reads the whole checkpoint.  Tensors are CPU tensors, whatever device they
// were saved from; tensors that were views of one storage share its memory.
// Throws CheckpointError.
PickleValue readTorchCheckpoint(const std::string& path);

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The tensors of root[key] (e.g. "network_weights") in their saved order;
// with an empty key, root itself is the state dict.  Throws CheckpointError
// when the entry is absent or not a dict of str -> tensor.
NamedTensors stateDict(const PickleValue& root, const std::string& key);

} // namespace segxai
