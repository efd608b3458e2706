#pragma once
// Engine-internal: 3D convolutions of frozen weights on the CPU, run for the input's gradient.
//
// Why: SegXAI runs models with frozen weights, so a backward pass wants only each convolution's
// input gradient, and LibTorch 1.13 computes it slowly:
// - oneDNN's backward-data primitive is slow at few channels: a MONAI UNet's 2-class 3x3x3
//   output convolution at 64^3, batch of 8, takes 109 ms backward against 15 ms forward. The
//   input gradient of a stride-1 convolution is itself a stride-1 convolution of the output
//   gradient (the kernel flipped, its input and output channels swapped), run here as a forward.
// - A transposed convolution's backward runs through im2col, 2-5x slower than the strided
//   convolution with the same kernel that its input gradient is; run here as that forward.
// - A batch of one on a small layer (batch x channels x X x Y <= 20480) goes to LibTorch's im2col
//   convolution, where oneDNN takes a half to a quarter of the time; here every such forward
//   runs on oneDNN, as LibTorch itself does for a batch of two or more.
// The values are LibTorch's up to float rounding (docs/performance.md, "Frozen convolutions").
#include <torch/torch.h>
#include <vector>

namespace segxai {

struct ConvolutionArguments {
    std::vector<int64_t> stride, padding, dilation, outputPadding;
    int64_t groups = 1;
    bool transposed = false;
};

// Whether convolveFrozen() takes this convolution: float32 5D input and weight on the CPU,
// LibTorch built with oneDNN, neither weight nor bias needing a gradient, and (transposed) an
// output padding below the stride. SEGXAI_FROZEN_CONVOLUTION=0 turns it off, for comparison.
bool convolvesFrozen(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                     const ConvolutionArguments& arguments);

// The convolution (transposed or not) of `input` with `weight` plus `bias`, differentiable in
// `input` only, its forward and backward as the header says.
at::Tensor convolveFrozen(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                          const ConvolutionArguments& arguments);

} // namespace segxai
