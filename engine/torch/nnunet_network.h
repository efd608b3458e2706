#pragma once
// Engine-internal: nnU-Net's networks (dynamic_network_architectures' PlainConvUNet and
// ResidualEncoderUNet, deep supervision off) built as TorchScript modules from plans.json, so
// that everything SegXAI does with a TorchScript model (layers, captures, explanations) works on
// them. Submodule paths are the PyTorch state-dict paths; forward() calls the canonical ones
// (encoder.stages.*, ...convs.0.conv) and the aliases PyTorch also registers
// (decoder.encoder, ...all_modules.N) name the same module objects.
#include "engine/model/nnunet_plans.h"
#include "engine/torch/torch_checkpoint.h"

#include <string>
#include <torch/script.h>

namespace segxai {

// The network with zero weights, on the CPU, in eval mode.
torch::jit::Module buildNnunetNetwork(const NnunetNetwork& network);

// Copies a checkpoint's network_weights into the network. Every parameter must be in the state
// dict with its shape; state-dict entries the network has no place for are refused too (they
// mean plans.json and the checkpoint disagree). Throws segxai::Error naming `origin` and the key.
void loadNnunetWeights(torch::jit::Module& network, const NamedTensors& weights, const std::string& origin);

} // namespace segxai
