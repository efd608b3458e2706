#pragma once
// Engine-internal: a model's 3D convolutions through SegXAI's own operators, which choose the
// fastest exact way to compute each one on the CPU:
// - a 1x1x1 kernel (stride 1, no padding, one group) as the matrix product it is. LibTorch 1.13's
//   CPU convolution (oneDNN) is 2-3x slower on it, forward and backward, and while it reorders
//   its output from a blocked layout it holds it twice. nnU-Net's output layer (1x1x1, 105
//   classes) on one 128^3 window took 3.9 s and a 1.7 GB rise of resident memory; as a product
//   it takes 1.7 s and the output's own 0.84 GB (docs/performance.md). Every nnU-Net has such
//   layers, MONAI's residual units too.
// - frozen weights, run for the input's gradient (engine/torch/frozen_convolution.h).
// Everything else goes to LibTorch unchanged.
#include <torch/script.h>

namespace segxai {

// Rewrites the 3D convolutions in every method of `module` and its submodules (aten::conv3d and
// aten::conv_transpose3d of scripted code, aten::_convolution of traced code) to SegXAI's
// operators of the same signature. Call it before the module's first forward (a method's
// executor keeps the graph it first ran). Returns how many convolutions were rewritten.
int useOwnConvolutions(torch::jit::Module& module);

} // namespace segxai
