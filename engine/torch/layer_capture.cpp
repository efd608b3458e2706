#include "engine/torch/layer_capture.h"

#include "engine/core/error.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/torch_errors.h"

#include <algorithm>
#include <fmt/format.h>
#include <functional>
#include <map>
#include <set>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <unordered_map>

namespace segxai {

using namespace torch::jit;

namespace {

constexpr size_t kNoOutput = static_cast<size_t>(-1);

std::string joinPath(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "." + b;
}

// The short class name: "__torch__.torch.nn.modules.conv.Conv3d" -> "Conv3d".
std::string shortType(const std::string& qualified) {
    const auto dot = qualified.rfind('.');
    return dot == std::string::npos ? qualified : qualified.substr(dot + 1);
}

std::string moduleType(const ClassTypePtr& type) {
    return type && type->name() ? shortType(type->name()->qualifiedName()) : "?";
}

// "forward", and "forward1", "forward2"..., which torch.jit.trace names repeated calls.
bool isForwardName(const std::string& name) {
    return name.rfind("forward", 0) == 0 && std::all_of(name.begin() + 7, name.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
           });
}

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            current[j] =
                std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

GraphFunction& forwardFunction(const Module& module) {
    auto method = module.find_method("forward");
    if (!method) throw Error("the model has no forward() method");
    return toGraphFunction(method->function());
}

struct CallRecord {
    std::string path;
    std::string type;
    size_t output = kNoOutput; // index into the graph's outputs
    bool inControlFlow = false;
};

struct TrackedGraph {
    std::shared_ptr<Graph> graph; // outputs: [original output, one per recorded call]
    std::vector<CallRecord> calls;
};

TrackedGraph inlineWithTracking(const Module& module) {
    TrackedGraph tracked;
    tracked.graph = forwardFunction(module).graph()->copy();
    Graph& graph = *tracked.graph;
    std::unordered_map<Value*, std::string> modulePath;
    modulePath[graph.inputs()[0]] = "";
    std::function<void(Block*, bool)> walk = [&](Block* block, bool inControlFlow) {
        Node* node = block->nodes().front();
        while (node != block->return_node()) {
            Node* next = node->next();
            if (node->kind() == prim::GetAttr) {
                auto owner = modulePath.find(node->input(0));
                auto type = node->output()->type()->cast<ClassType>();
                if (owner != modulePath.end() && type && type->is_module()) {
                    modulePath[node->output()] = joinPath(owner->second, node->s(attr::name));
                }
            } else if (node->kind() == prim::CallMethod) {
                auto type = node->input(0)->type()->cast<ClassType>();
                GraphFunction* callee = type ? tryToGraphFunction(type->getMethod(node->s(attr::name))) : nullptr;
                if (callee) {
                    auto owner = modulePath.find(node->input(0));
                    const bool record =
                        isForwardName(node->s(attr::name)) && owner != modulePath.end() && !owner->second.empty();
                    CallRecord call;
                    if (record) {
                        call.path = owner->second;
                        call.type = moduleType(type);
                        call.inControlFlow = inControlFlow;
                    }
                    Node* before = node->prev();
                    auto outputs = inlineCallTo(node, callee, /*inline_optimized_graph=*/false);
                    if (record) {
                        if (!inControlFlow && outputs.size() == 1) call.output = graph.registerOutput(outputs[0]);
                        tracked.calls.push_back(call);
                    }
                    node = before->next(); // continue with the inlined body
                    continue;
                }
            }
            for (Block* nested : node->blocks())
                walk(nested, true);
            node = next;
        }
    };
    walk(graph.block(), false);
    Inline(graph); // what is left: prim::CallFunction (F.interpolate, ...)
    return tracked;
}

// The module object at a dotted path, or none.
std::optional<Module> moduleAt(const Module& root, const std::string& path) {
    Module m = root;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string name = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (name.empty() || !m.hasattr(name)) return std::nullopt;
        const IValue child = m.attr(name);
        if (!child.isModule()) return std::nullopt;
        m = child.toModule();
        if (dot == std::string::npos) return m;
        start = dot + 1;
    }
}

// A module registered under several names (nnU-Net's decoder.encoder is its encoder, MONAI's
// DynUNet keeps upsamples.N inside skip_layers too) is called by one of them. Scripted and
// rebuilt models keep one module object under every name; torch.jit.trace makes a copy per
// name that shares the parameters. So a path resolves to the called path holding the same
// object, else to a called module of the same type with the same parameter tensors (the one
// whose path ends most like it).
class CalledAliases {
public:
    CalledAliases(const Module& root, const std::vector<CallRecord>& calls) : m_root(root) {
        for (const auto& call : calls) {
            if (!m_called.insert(call.path).second) continue;
            const auto m = moduleAt(root, call.path);
            if (!m) continue;
            m_byObject.emplace(m->_ivalue().get(), call.path);
            if (const std::string key = sharingKey(*m); !key.empty()) m_byParameters[key].push_back(call.path);
        }
    }
    // The path forward() calls the module at `path` by: `path` itself when it is called or has
    // no called alias.
    std::string resolve(const std::string& path) const {
        if (m_called.count(path)) return path;
        const auto m = moduleAt(m_root, path);
        if (!m) return path;
        if (const auto it = m_byObject.find(m->_ivalue().get()); it != m_byObject.end()) return it->second;
        const auto it = m_byParameters.find(sharingKey(*m));
        if (it == m_byParameters.end()) return path;
        return *std::max_element(it->second.begin(), it->second.end(), [&](const std::string& a, const std::string& b) {
            return commonSuffix(a, path) < commonSuffix(b, path);
        });
    }

private:
    // The module's type and the storage of every parameter and buffer under it; empty without any.
    static std::string sharingKey(const Module& m) {
        std::vector<const void*> storages;
        for (const auto& p : m.named_parameters(/*recurse=*/true))
            storages.push_back(p.value.data_ptr());
        for (const auto& b : m.named_buffers(/*recurse=*/true))
            storages.push_back(b.value.data_ptr());
        if (storages.empty()) return {};
        std::sort(storages.begin(), storages.end());
        return fmt::format("{}:{}", moduleType(m.type()), fmt::join(storages, ","));
    }
    // How many trailing dotted components two paths share.
    static size_t commonSuffix(const std::string& a, const std::string& b) {
        size_t n = 0, i = a.size(), j = b.size();
        while (i > 0 && j > 0 && a[i - 1] == b[j - 1]) {
            --i;
            --j;
            if (a[i] == '.') ++n;
        }
        return n;
    }

    const Module& m_root;
    std::set<std::string> m_called;
    std::unordered_map<const c10::ivalue::Object*, std::string> m_byObject;
    std::map<std::string, std::vector<std::string>> m_byParameters;
};

void setTupleOutput(Graph& graph, const std::vector<Value*>& values) {
    while (!graph.outputs().empty())
        graph.eraseOutput(graph.outputs().size() - 1);
    WithInsertPoint guard(graph.return_node());
    Node* tuple = graph.insertNode(graph.createTuple(values));
    graph.registerOutput(tuple->output());
}

std::shared_ptr<GraphFunction> makeFunction(std::shared_ptr<Graph> graph, const std::string& name) {
    auto function = std::make_shared<GraphFunction>(c10::QualifiedName("segxai.capture." + name), std::move(graph),
                                                    /*function_creator=*/nullptr);
    function->_set_initial_executor_execution_mode(ExecutorExecutionMode::SIMPLE);
    return function;
}

// True when `block` runs whenever its enclosing `outer` block runs (constant-true branches).
bool runsUnconditionally(Block* block, Block* outer) {
    while (block != outer) {
        Node* owner = block->owningNode();
        if (!owner || owner->kind() != prim::If) return false;
        auto condition = toIValue(owner->input(0));
        if (!condition || !condition->isBool()) return false;
        if (owner->blocks()[condition->toBool() ? 0 : 1] != block) return false;
        block = owner->owningBlock();
    }
    return true;
}

// An in-place op after the layer (LeakyReLU(inplace=True), x += y) overwrites the captured
// tensor, as a Python hook would also see; say so.
std::string inPlaceWarning(Value* activation, const std::string& path) {
    std::string ops;
    for (const Use& use : activation->uses()) {
        if (!runsUnconditionally(use.user->owningBlock(), activation->node()->owningBlock())) continue;
        const FunctionSchema* schema = use.user->maybeSchema();
        if (!schema || use.offset >= schema->arguments().size()) continue;
        const auto* alias = schema->arguments()[use.offset].alias_info();
        if (alias && alias->isWrite()) ops += (ops.empty() ? "" : ", ") + std::string(use.user->kind().toQualString());
    }
    if (ops.empty()) return {};
    return fmt::format("the output of '{}' is modified in place later by {}; the captured activation "
                       "holds the values after that op",
                       path, ops);
}

[[noreturn]] void explainMissing(const Module& module, const std::string& path) {
    std::vector<std::string> all;
    for (const auto& named : module.named_modules()) {
        if (named.name.empty()) continue;
        if (named.name == path) {
            throw Error(fmt::format("layer '{}' ({}) exists but forward() never calls it; there is no "
                                    "output to capture",
                                    path, moduleType(named.value.type())));
        }
        all.push_back(named.name);
    }
    if (all.empty()) {
        throw Error("the model has no submodules (was it frozen with torch.jit.freeze or "
                    "optimize_for_inference?); export the traced or scripted model before freezing");
    }
    std::vector<std::pair<size_t, std::string>> scored;
    for (const auto& p : all)
        scored.emplace_back(editDistance(path, p), p);
    std::sort(scored.begin(), scored.end());
    std::string close;
    for (size_t n = 0; n < std::min<size_t>(4, scored.size()); ++n)
        close += (n ? ", " : "") + scored[n].second;
    throw Error(
        fmt::format("the model has no layer '{}'; closest: {} (segxai layers --model M lists all)", path, close));
}

std::shared_ptr<Graph> captureGraph(const Module& module, const std::string& spec, std::string& warning) {
    std::string path = spec;
    int callIndex = -1;
    if (const auto hash = spec.rfind('#'); hash != std::string::npos) {
        path = spec.substr(0, hash);
        const std::string index = spec.substr(hash + 1);
        if (index.empty() || !std::all_of(index.begin(), index.end(),
                                          [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            throw Error(fmt::format("layer '{}': expected 'path#k' with a call number k", spec));
        }
        callIndex = std::stoi(index);
    }
    if (path.empty()) throw Error("no layer given (the model's output itself is not a layer)");
    TrackedGraph tracked = inlineWithTracking(module);
    path = CalledAliases(module, tracked.calls).resolve(path);
    std::vector<const CallRecord*> matches;
    for (const auto& call : tracked.calls) {
        if (call.path == path) matches.push_back(&call);
    }
    if (matches.empty()) explainMissing(module, path);
    if (callIndex < 0 && matches.size() > 1) {
        throw Error(fmt::format("layer '{}' is called {} times in forward(); choose one call with "
                                "'{}#0' ... '{}#{}'",
                                path, matches.size(), path, path, matches.size() - 1));
    }
    const size_t k = callIndex < 0 ? 0 : size_t(callIndex);
    if (k >= matches.size()) {
        throw Error(fmt::format("layer '{}' is called {} time(s); there is no call #{}", path, matches.size(), k));
    }
    const CallRecord& call = *matches[k];
    if (call.inControlFlow) {
        throw Error(fmt::format("layer '{}' is called inside an if or a loop of the scripted forward; its "
                                "output cannot be captured",
                                path));
    }
    if (call.output == kNoOutput) throw Error(fmt::format("layer '{}' has no single output", path));
    Value* activation = tracked.graph->outputs()[call.output];
    if (activation->type()->kind() == TypeKind::NoneType) {
        throw Error(fmt::format("layer '{}' ({}) returns its input unchanged and the traced graph keeps no "
                                "output for it; choose the layer that produces its input",
                                path, call.type));
    }
    if (!activation->type()->isSubtypeOf(*TensorType::get())) {
        throw Error(fmt::format("layer '{}' ({}) returns {}, not a tensor; choose one of its children", path, call.type,
                                activation->type()->repr_str()));
    }
    warning = inPlaceWarning(activation, path);
    Value* output = tracked.graph->outputs()[0];
    setTupleOutput(*tracked.graph, {output, activation});
    EliminateDeadCode(tracked.graph);
    if (tracked.graph->inputs().size() != 2) {
        throw Error("the model's forward() takes more than one input; SegXAI feeds a single tensor");
    }
    return tracked.graph;
}

torch::Tensor firstTensor(const IValue& value) {
    if (value.isTensor()) return value.toTensor();
    if (value.isTuple() && !value.toTuple()->elements().empty()) return firstTensor(value.toTuple()->elements()[0]);
    if (value.isList() && value.toList().size() > 0) return firstTensor(value.toList().get(0));
    throw Error("the model returned " + std::string(value.tagKind()) + " where a tensor is needed");
}

// The capture graph cut at the layer: what only the output needs is dead code and goes.
std::shared_ptr<Graph> activationOnlyGraph(Graph& capture) {
    std::shared_ptr<Graph> graph = capture.copy();
    Value* activation = graph->outputs()[0]->node()->input(1);
    setTupleOutput(*graph, {activation});
    EliminateDeadCode(graph);
    return graph;
}

// Runs `function` (a rewritten forward) on `input`: its output tuple.
c10::intrusive_ptr<c10::ivalue::Tuple> runRewritten(const Model& model, GraphFunction& function,
                                                    const torch::Tensor& input) {
    const Model::Impl& m = model.impl();
    Stack stack{m.module._ivalue(), input};
    try {
        std::lock_guard lock(m.mutex);
        function.run(stack);
    } catch (const std::exception& e) {
        throw Error("the model's forward failed: " + torchErrorMessage(e.what()));
    }
    return stack.back().toTuple();
}

} // namespace

LayerCapture::LayerCapture(const Model& model, const std::string& path) : m_model(model), m_path(path) {
    std::lock_guard lock(model.impl().mutex);
    const std::shared_ptr<Graph> graph = captureGraph(model.impl().module, path, m_warning);
    m_activationFunction = makeFunction(activationOnlyGraph(*graph), path + ".activation");
    m_function = makeFunction(graph, path);
}

CapturedForward LayerCapture::forward(const torch::Tensor& input) const {
    const auto tuple = runRewritten(m_model, *m_function, input);
    return {firstTensor(tuple->elements()[0]), tuple->elements()[1].toTensor()};
}

torch::Tensor LayerCapture::activation(const torch::Tensor& input) const {
    return runRewritten(m_model, *m_activationFunction, input)->elements()[0].toTensor();
}

std::shared_ptr<const LayerCapture> layerCapture(const Model& model, const std::string& path) {
    const Model::Impl& m = model.impl();
    {
        std::lock_guard lock(m.captureMutex);
        if (auto it = m.captures.find(path); it != m.captures.end()) return it->second;
    }
    auto capture = std::make_shared<const LayerCapture>(model, path);
    std::lock_guard lock(m.captureMutex);
    return m.captures.emplace(path, std::move(capture)).first->second;
}

std::vector<LayerInfo> listModelLayers(const Model& model, const std::vector<int64_t>& inputShape) {
    const Model::Impl& m = model.impl();
    std::vector<IValue> results;
    TrackedGraph tracked;
    std::vector<size_t> slot;
    {
        std::lock_guard lock(m.mutex);
        tracked = inlineWithTracking(m.module);
        std::vector<Value*> values{tracked.graph->outputs()[0]};
        slot.assign(tracked.calls.size(), kNoOutput);
        for (size_t n = 0; n < tracked.calls.size(); ++n) {
            if (tracked.calls[n].output == kNoOutput) continue;
            slot[n] = values.size();
            values.push_back(tracked.graph->outputs()[tracked.calls[n].output]);
        }
        setTupleOutput(*tracked.graph, values);
        EliminateDeadCode(tracked.graph);
        auto function = makeFunction(tracked.graph, "layers");
        std::vector<int64_t> shape{1};
        shape.insert(shape.end(), inputShape.begin(), inputShape.end());
        torch::NoGradGuard noGrad;
        Stack stack{m.module._ivalue(), torch::zeros(shape, torch::TensorOptions().device(m.device))};
        try {
            function->run(stack);
        } catch (const std::exception& e) {
            throw Error(fmt::format("the model's forward failed on a zero input of shape [1, {}]: {}",
                                    fmt::join(inputShape, ", "), torchErrorMessage(e.what())));
        }
        results = stack.back().toTuple()->elements().vec();
    }
    std::map<std::string, int> calls, seen;
    for (const auto& call : tracked.calls)
        ++calls[call.path];
    std::vector<LayerInfo> layers;
    std::set<std::string> called;
    for (size_t n = 0; n < tracked.calls.size(); ++n) {
        const CallRecord& call = tracked.calls[n];
        called.insert(call.path);
        LayerInfo layer;
        const int k = seen[call.path]++;
        layer.path = calls[call.path] > 1 ? fmt::format("{}#{}", call.path, k) : call.path;
        layer.type = call.type;
        if (slot[n] == kNoOutput) {
            layer.note = call.inControlFlow ? "called inside control flow" : "no single output";
        } else if (results[slot[n]].isTensor()) {
            layer.shape = results[slot[n]].toTensor().sizes().vec();
            layer.capturable = true;
        } else if (results[slot[n]].isNone()) {
            layer.note = "returns its input unchanged (no graph output)";
        } else {
            layer.note = "output is " + results[slot[n]].type()->repr_str() + ", not a tensor";
        }
        layers.push_back(std::move(layer));
    }
    std::map<std::string, size_t> firstLayerOf; // called path -> its (first) entry in `layers`
    for (size_t n = 0; n < tracked.calls.size(); ++n)
        firstLayerOf.emplace(tracked.calls[n].path, n);
    const CalledAliases aliases(m.module, tracked.calls);
    for (const auto& named : m.module.named_modules()) {
        if (named.name.empty() || called.count(named.name)) continue;
        LayerInfo layer;
        layer.path = named.name;
        layer.type = moduleType(named.value.type());
        const std::string alias = aliases.resolve(named.name);
        if (alias != named.name) {
            const LayerInfo& same = layers[firstLayerOf.at(alias)];
            layer.shape = same.shape;
            layer.capturable = same.capturable;
            layer.note = fmt::format("alias of {} (forward() calls it by that name)", alias);
        } else {
            layer.note = "never called by forward()";
        }
        layers.push_back(std::move(layer));
    }
    return layers;
}

} // namespace segxai
