#pragma once
// Engine-internal: the tensor a named submodule returns, together with the model output, with
// autograd intact, for traced and scripted TorchScript models, without Python hooks.
//
// How: copy the un-inlined forward graph, follow prim::GetAttr chains from `self` to know
// which submodule each value holds, inline each prim::CallMethod one level at a time (using
// the callee's un-optimised graph, so nested calls stay visible), register every submodule
// call's result as an extra graph output (so later rewrites keep the reference valid), then
// make the graph return (output, chosen activation) and run it as a GraphFunction with the
// module object as its first input.
//
// The rewritten graph runs with the SIMPLE executor: with LibTorch 1.13's profiling executor,
// from the second run on, autodiff fuses batch_norm -> dropout -> relu into a differentiable
// subgraph and the gradient with respect to an activation inside it comes back undefined.
#include "engine/model/model.h"

#include <memory>
#include <string>
#include <torch/script.h>
#include <vector>

namespace torch::jit {
struct GraphFunction;
}

namespace segxai {

struct CapturedForward {
    torch::Tensor output;
    torch::Tensor activation;
};

class LayerCapture {
public:
    // `path` is a dotted submodule path; "path#k" picks the k-th call of a module called more
    // than once. Throws segxai::Error: unknown path (with close matches), never called, not a
    // tensor, ambiguous, inside control flow, frozen model.
    LayerCapture(const Model& model, const std::string& path);
    // Runs the rewritten forward on `input` (already on the model's device). Autograd follows
    // the caller's grad mode.
    CapturedForward forward(const torch::Tensor& input) const;
    // The activation alone, from the forward cut at the layer (what follows it is not run).
    torch::Tensor activation(const torch::Tensor& input) const;
    const std::string& path() const { return m_path; }
    // Set when a later in-place op overwrites the activation.
    const std::string& warning() const { return m_warning; }

private:
    const Model& m_model;
    std::string m_path;
    std::shared_ptr<torch::jit::GraphFunction> m_function, m_activationFunction;
    std::string m_warning;
};

// The capture for (model, path), built once and cached in the model.
std::shared_ptr<const LayerCapture> layerCapture(const Model& model, const std::string& path);

// Every submodule with its output shape for an input shape (C, X, Y, Z): one rewrite that
// returns every submodule's output, and one no-grad forward on zeros.
std::vector<LayerInfo> listModelLayers(const Model& model, const std::vector<int64_t>& inputShape);

} // namespace segxai
