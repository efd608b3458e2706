#include "engine/torch/frozen_convolution.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <torch/csrc/autograd/custom_function.h>

namespace segxai {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool turnedOn() {
    static const bool on = [] {
        const char* value = std::getenv("SEGXAI_FROZEN_CONVOLUTION");
        return !(value && std::strcmp(value, "0") == 0);
    }();
    return on;
}

bool needsGradient(const c10::optional<at::Tensor>& t) {
    return t && t->defined() && t->requires_grad();
}

std::vector<int64_t> ones(size_t n) {
    return std::vector<int64_t>(n, 1);
}

// oneDNN's forward convolution (not transposed).
at::Tensor oneDnnConvolution(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                             at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                             int64_t groups) {
    return at::mkldnn_convolution(input.contiguous(), weight.contiguous(), bias, padding, stride, dilation, groups);
}

// The kernel whose stride-1 convolution of a stride-1 convolution's output gradient is its input
// gradient: [O, I/g, k...] to [I, O/g, k...], each group's channels swapped, flipped in space.
at::Tensor adjointKernel(const at::Tensor& weight, int64_t groups) {
    const int64_t out = weight.size(0), inPerGroup = weight.size(1);
    std::vector<int64_t> grouped{groups, out / groups, inPerGroup};
    std::vector<int64_t> adjoint{groups * inPerGroup, out / groups};
    for (int64_t d = 2; d < weight.dim(); ++d) {
        grouped.push_back(weight.size(d));
        adjoint.push_back(weight.size(d));
    }
    return weight.reshape(grouped).transpose(1, 2).reshape(adjoint).flip({2, 3, 4}).contiguous();
}

// The padding of that adjoint convolution, d (k - 1) - p per axis; empty when one is negative
// (a padding wider than the kernel's reach: LibTorch's backward handles it).
std::vector<int64_t> adjointPadding(const at::Tensor& weight, const ConvolutionArguments& a) {
    std::vector<int64_t> padding;
    for (size_t axis = 0; axis < a.padding.size(); ++axis) {
        const int64_t p = a.dilation[axis] * (weight.size(int64_t(2 + axis)) - 1) - a.padding[axis];
        if (p < 0) return {};
        padding.push_back(p);
    }
    return padding;
}

bool allOnes(const std::vector<int64_t>& values) {
    return std::all_of(values.begin(), values.end(), [](int64_t v) { return v == 1; });
}

at::Tensor forwardOf(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                     const ConvolutionArguments& a) {
    if (a.transposed) {
        return at::convolution(input, weight, bias, a.stride, a.padding, a.dilation, true, a.outputPadding, a.groups);
    }
    return oneDnnConvolution(input, weight, bias, a.stride, a.padding, a.dilation, a.groups);
}

class FrozenConvolution : public torch::autograd::Function<FrozenConvolution> {
public:
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                              const c10::optional<at::Tensor>& bias, const ConvolutionArguments& a) {
        // The input is kept only where LibTorch's backward needs it: a strided convolution.
        const bool viaLibTorch = !a.transposed && (!allOnes(a.stride) || adjointPadding(weight, a).empty());
        ctx->save_for_backward({viaLibTorch ? input : at::Tensor(), weight});
        ctx->saved_data["stride"] = a.stride;
        ctx->saved_data["padding"] = a.padding;
        ctx->saved_data["dilation"] = a.dilation;
        ctx->saved_data["outputPadding"] = a.outputPadding;
        ctx->saved_data["groups"] = a.groups;
        ctx->saved_data["transposed"] = a.transposed;
        return forwardOf(input, weight, bias, a);
    }

    static variable_list backward(AutogradContext* ctx, variable_list gradients) {
        const at::Tensor& gradient = gradients[0];
        if (!gradient.defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
        const variable_list saved = ctx->get_saved_variables();
        const at::Tensor &input = saved[0], &weight = saved[1];
        ConvolutionArguments a;
        a.stride = ctx->saved_data["stride"].toIntVector();
        a.padding = ctx->saved_data["padding"].toIntVector();
        a.dilation = ctx->saved_data["dilation"].toIntVector();
        a.outputPadding = ctx->saved_data["outputPadding"].toIntVector();
        a.groups = ctx->saved_data["groups"].toInt();
        a.transposed = ctx->saved_data["transposed"].toBool();
        at::Tensor inputGradient;
        if (a.transposed) {
            inputGradient =
                oneDnnConvolution(gradient, weight, c10::nullopt, a.stride, a.padding, a.dilation, a.groups);
        } else if (input.defined()) {
            inputGradient = std::get<0>(at::convolution_backward(gradient, input, weight, c10::nullopt, a.stride,
                                                                 a.padding, a.dilation, false, a.outputPadding,
                                                                 a.groups, {true, false, false}));
        } else {
            inputGradient = oneDnnConvolution(gradient, adjointKernel(weight, a.groups), c10::nullopt,
                                              ones(a.stride.size()), adjointPadding(weight, a), a.dilation, a.groups);
        }
        return {inputGradient, at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

} // namespace

bool convolvesFrozen(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                     const ConvolutionArguments& arguments) {
    static const bool oneDnn = at::hasMKLDNN();
    if (!oneDnn || !turnedOn()) return false;
    if (input.dim() != 5 || weight.dim() != 5 || !input.device().is_cpu() || !weight.device().is_cpu()) return false;
    if (input.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat) return false;
    if (bias && bias->defined() && (bias->scalar_type() != at::kFloat || !bias->device().is_cpu())) return false;
    if (weight.requires_grad() || needsGradient(bias)) return false;
    if (arguments.transposed) {
        for (size_t axis = 0; axis < arguments.outputPadding.size(); ++axis)
            if (arguments.outputPadding[axis] >= arguments.stride[axis]) return false;
    }
    return true;
}

at::Tensor convolveFrozen(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                          const ConvolutionArguments& arguments) {
    if (!(at::GradMode::is_enabled() && input.requires_grad())) return forwardOf(input, weight, bias, arguments);
    return FrozenConvolution::apply(input, weight, bias, arguments);
}

} // namespace segxai
