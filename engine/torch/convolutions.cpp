#include "engine/torch/convolutions.h"

#include "engine/torch/frozen_convolution.h"

#include <algorithm>
#include <optional>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/torch.h>

namespace segxai {
namespace {

bool allEqual(at::IntArrayRef values, int64_t value) {
    return std::all_of(values.begin(), values.end(), [&](int64_t v) { return v == value; });
}

bool isPointwise(const at::Tensor& input, const at::Tensor& weight, at::IntArrayRef stride, at::IntArrayRef padding,
                 int64_t groups) {
    const bool floating = input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble;
    return input.dim() == 5 && weight.dim() == 5 && input.device().is_cpu() && weight.device().is_cpu() && floating &&
           weight.scalar_type() == input.scalar_type() && weight.size(1) == input.size(1) && weight.size(2) == 1 &&
           weight.size(3) == 1 && weight.size(4) == 1 && groups == 1 && allEqual(stride, 1) && allEqual(padding, 0);
}

// [B, C, X, Y, Z] convolved with [O, C, 1, 1, 1] (plus [O]): per batch item, [O, C] times
// [C, X * Y * Z], the bias added by the product itself (no second output-sized tensor).
at::Tensor pointwise(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias) {
    const int64_t batch = input.size(0), in = input.size(1), out = weight.size(0);
    const at::Tensor voxels = input.reshape({batch, in, -1});
    const at::Tensor matrix = weight.reshape({1, out, in}).expand({batch, out, in});
    const at::Tensor product =
        bias && bias->defined()
            ? at::baddbmm(bias->reshape({1, out, 1}).expand({batch, out, voxels.size(2)}), matrix, voxels)
            : at::bmm(matrix, voxels);
    return product.view({batch, out, input.size(2), input.size(3), input.size(4)});
}

std::vector<int64_t> zeros(size_t n) {
    return std::vector<int64_t>(n, 0);
}

// Every convolution the rewritten graph runs: a 1x1x1 kernel as a product, frozen weights on
// oneDNN (frozen_convolution.h), anything else as LibTorch would.
at::Tensor convolve(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                    const ConvolutionArguments& a) {
    if (!a.transposed && isPointwise(input, weight, a.stride, a.padding, a.groups))
        return pointwise(input, weight, bias);
    if (convolvesFrozen(input, weight, bias, a)) return convolveFrozen(input, weight, bias, a);
    return at::convolution(input, weight, bias, a.stride, a.padding, a.dilation, a.transposed, a.outputPadding,
                           a.groups);
}

at::Tensor conv3d(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                  at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
    return convolve(input, weight, bias,
                    {stride.vec(), padding.vec(), dilation.vec(), zeros(stride.size()), groups, false});
}

at::Tensor convTranspose3d(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef outputPadding,
                           int64_t groups, at::IntArrayRef dilation) {
    return convolve(input, weight, bias,
                    {stride.vec(), padding.vec(), dilation.vec(), outputPadding.vec(), groups, true});
}

// aten::_convolution's flags beyond the geometry (benchmark, determinism, cuDNN, TF32) matter
// only on a GPU, where LibTorch gets them unchanged.
at::Tensor convolution(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                       at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation, bool transposed,
                       at::IntArrayRef outputPadding, int64_t groups, bool benchmark, bool deterministic,
                       bool cudnnEnabled, bool allowTf32) {
    if (!input.device().is_cpu()) {
        return at::_convolution(input, weight, bias, stride, padding, dilation, transposed, outputPadding, groups,
                                benchmark, deterministic, cudnnEnabled, allowTf32);
    }
    return convolve(input, weight, bias,
                    {stride.vec(), padding.vec(), dilation.vec(), outputPadding.vec(), groups, transposed});
}

// Registered without a dispatch key: autograd differentiates the LibTorch operators they call,
// or the frozen convolutions' own autograd function (frozen_convolution.cpp).
TORCH_LIBRARY(segxai, m) {
    m.def("conv3d(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, "
          "int groups) -> Tensor",
          &conv3d);
    m.def("convolution(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, "
          "bool transposed, int[] output_padding, int groups, bool benchmark, bool deterministic, "
          "bool cudnn_enabled, bool allow_tf32) -> Tensor",
          &convolution);
    m.def("conv_transpose3d(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, "
          "int[] output_padding, int groups, int[] dilation) -> Tensor",
          &convTranspose3d);
}

// The operator that replaces `node`, if any: aten::conv3d with int-list padding (not its
// "same"/"valid" overload), aten::conv_transpose3d, and the 13 arguments of aten::_convolution
// as LibTorch 1.13 traces.
std::optional<c10::Symbol> replacementOf(const torch::jit::Node* node) {
    if (node->kind() == c10::aten::conv3d && node->inputs().size() == 7 &&
        node->input(4)->type()->kind() == c10::TypeKind::ListType)
        return c10::Symbol::fromQualString("segxai::conv3d");
    if (node->kind() == c10::aten::conv_transpose3d && node->inputs().size() == 8)
        return c10::Symbol::fromQualString("segxai::conv_transpose3d");
    if (node->kind() == c10::aten::_convolution && node->inputs().size() == 13)
        return c10::Symbol::fromQualString("segxai::convolution");
    return std::nullopt;
}

int rewrite(torch::jit::Block* block) {
    int count = 0;
    for (auto it = block->nodes().begin(); it != block->nodes().end();) {
        torch::jit::Node* node = *it++;
        for (torch::jit::Block* inner : node->blocks())
            count += rewrite(inner);
        const auto replacement = replacementOf(node);
        if (!replacement) continue;
        torch::jit::Node* op = node->owningGraph()->create(*replacement, node->inputs(), 1);
        op->output()->setType(node->output()->type());
        op->setSourceRange(node->sourceRange());
        op->insertBefore(node);
        node->output()->replaceAllUsesWith(op->output());
        node->destroy();
        ++count;
    }
    return count;
}

} // namespace

int useOwnConvolutions(torch::jit::Module& module) {
    int count = 0;
    for (const torch::jit::Module& sub : module.modules()) {
        for (const torch::jit::Method& method : sub.get_methods())
            count += rewrite(torch::jit::toGraphFunction(method.function()).graph()->block());
    }
    return count;
}

} // namespace segxai
