#pragma once
// Engine-internal: 1x1x1 convolutions on the CPU computed as the matrix product they are.
//
// Why: LibTorch 1.13's CPU convolution (oneDNN) is 2-3x slower on a 1x1x1 kernel than a matrix
// product, forward and backward, and while it reorders its output from a blocked layout it holds
// it twice. nnU-Net's output layer (1x1x1, 105 classes) on one 128^3 window took 3.9 s and a
// 1.7 GB rise of resident memory; as a product it takes 1.7 s and the output's own 0.84 GB
// (docs/performance.md). Every nnU-Net has such layers, MONAI's residual units too.
#include <torch/script.h>

namespace segxai {

// Rewrites the 3D convolutions in every method of `module` and its submodules (aten::conv3d of
// scripted code, aten::_convolution of traced code) to SegXAI's operators of the same
// signature, which compute a 1x1x1 kernel with stride 1, no padding and one group on a float
// CPU tensor as one batched matrix product, differentiably, and hand every other case to
// LibTorch unchanged. Call it before the module's first forward (a method's executor keeps the
// graph it first ran). Returns how many convolutions were rewritten.
int usePointwiseConvolutions(torch::jit::Module& module);

} // namespace segxai
