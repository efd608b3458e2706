#include "engine/model/model.h"

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/model/device.h"
#include "engine/model/monai_bundle.h"
#include "engine/torch/convolutions.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/nnunet_model.h"
#include "engine/torch/nnunet_predict.h"
#include "engine/torch/torch_checkpoint.h"

#include <filesystem>
#include <fmt/format.h>
#include <torch/csrc/jit/api/function_impl.h>

namespace fs = std::filesystem;

namespace segxai {
namespace {

// The card beside a TorchScript file: <stem>.json, else model.json in the same folder.
std::optional<std::string> cardBeside(const fs::path& file) {
    const fs::path named = fs::path(file).replace_extension(".json");
    if (fs::exists(named)) return named.string();
    const fs::path generic = file.parent_path() / "model.json";
    if (fs::exists(generic)) return generic.string();
    return std::nullopt;
}

// The submodule a prim::CallMethod node calls: follow its prim::GetAttr chain from `self`.
std::optional<torch::jit::Module> calledModule(const torch::jit::Module& owner, torch::jit::Node* call,
                                               torch::jit::Value* self) {
    std::vector<std::string> names;
    torch::jit::Value* v = call->input(0);
    while (v != self) {
        torch::jit::Node* get = v->node();
        if (get->kind() != c10::prim::GetAttr) return std::nullopt;
        names.push_back(get->s(c10::attr::name));
        v = get->input(0);
    }
    torch::jit::Module m = owner;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        const torch::IValue child = m.attr(*it);
        if (!child.isModule()) return std::nullopt;
        m = child.toModule();
    }
    return m;
}

// Input channels a bare model expects: follow the input through the forward graph to the
// first module that consumes it; if that is a 3D convolution, its weight [out, in / groups,
// kx, ky, kz] tells. -1 when the input meets anything else first.
int64_t channelsOfFirstConsumer(const torch::jit::Module& module, int depth = 0) {
    const auto method = module.find_method("forward");
    if (!method || depth > 32) return -1;
    const auto type = module.type()->name();
    if (type && type->name() == "Conv3d" && module.hasattr("weight") && module.attr("weight").isTensor()) {
        const torch::Tensor weight = module.attr("weight").toTensor();
        if (weight.dim() != 5) return -1;
        const int64_t groups =
            module.hasattr("groups") && module.attr("groups").isInt() ? module.attr("groups").toInt() : 1;
        return weight.size(1) * groups;
    }
    const auto graph = torch::jit::toGraphFunction(method->function()).graph();
    if (graph->inputs().size() < 2) return -1;
    torch::jit::Value* self = graph->inputs()[0];
    torch::jit::Value* input = graph->inputs()[1];
    for (torch::jit::Node* node : graph->nodes()) {
        bool consumes = false;
        for (torch::jit::Value* v : node->inputs())
            consumes = consumes || v == input;
        if (!consumes) continue;
        if (node->kind() != c10::prim::CallMethod || node->inputs().size() < 2 || node->input(1) != input) return -1;
        const auto callee = calledModule(module, node, self);
        return callee ? channelsOfFirstConsumer(*callee, depth + 1) : -1;
    }
    return -1;
}

// Why a file that TorchScript's loader refuses cannot run here, and what to do instead.
[[noreturn]] void refuseUnloadable(const fs::path& file, const std::string& reason) {
    const std::string name = file.filename().string();
    if (file.extension() == ".pt2") {
        throw Error(fmt::format("{}: a torch.export program (.pt2); it needs PyTorch 2's export runtime, which "
                                "LibTorch 1.13 does not have. Save the network as TorchScript instead "
                                "(torch.jit.trace or torch.jit.script, then torch.jit.save as model.ts)",
                                file.string()));
    }
    if (name.find("trt") != std::string::npos) {
        throw Error(fmt::format("{}: a Torch-TensorRT module: its layers are TensorRT engines compiled for one GPU "
                                "and TensorRT version, which LibTorch cannot run ({}). Use the plain TorchScript "
                                "model (a MONAI bundle's models/model.ts) instead",
                                file.string(), reason));
    }
    bool checkpoint = false;
    try {
        readTorchCheckpoint(file.string());
        checkpoint = true;
    } catch (const std::exception&) {
    }
    const fs::path bundle = file.parent_path().parent_path();
    if (checkpoint && file.parent_path().filename() == "models" && fs::exists(bundle / "configs" / "metadata.json")) {
        throw Error(fmt::format(
            "{}: a MONAI bundle's weights only (a state dict saved with torch.save), not a network SegXAI can run. "
            "Export the bundle's TorchScript model next to it: python -m monai.bundle ckpt_export network_def "
            "--filepath {}/models/model.ts --ckpt_file {} --meta_file {}/configs/metadata.json --config_file "
            "{}/configs/inference.json",
            file.string(), bundle.string(), file.string(), bundle.string(), bundle.string()));
    }
    if (checkpoint) {
        throw Error(fmt::format("{}: a torch.save file (weights or a pickled object), not TorchScript: it holds no "
                                "network SegXAI can run. Export the model with torch.jit.trace or torch.jit.script "
                                "and torch.jit.save (an nnU-Net checkpoint opens through its results folder)",
                                file.string()));
    }
    throw Error(fmt::format("{}: not a TorchScript model SegXAI can load ({}). Export it with torch.jit.trace or "
                            "torch.jit.script and torch.jit.save",
                            file.string(), reason));
}

} // namespace

Model::Model(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Model::~Model() = default;

const ModelCard& Model::card() const {
    return m_impl->card;
}
const std::string& Model::path() const {
    return m_impl->path;
}
int64_t Model::expectedInputChannels() const {
    return m_impl->inputChannels;
}

std::shared_ptr<const Model> Model::fromImpl(std::unique_ptr<Impl> impl) {
    return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const NnunetPlan* Model::nnunetPlan() const {
    return m_impl->nnunet ? &m_impl->nnunet->plan : nullptr;
}

const NnunetSelection* Model::nnunetSelection() const {
    return m_impl->nnunet ? &m_impl->nnunet->selection : nullptr;
}

std::vector<std::string> Model::predictionNotes() const {
    return m_impl->notes;
}

std::shared_ptr<const Model> Model::load(const std::string& path, const NnunetOptions& nnunet) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": model not found");
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    if (isNnunetPath(path)) {
        loadNnunetModel(*impl, path, nnunet);
        return std::shared_ptr<const Model>(new Model(std::move(impl)));
    }
    fs::path file = path;
    // A folder holding model.pt (or model.ts) and its card, as SegXAI's demo models.
    for (const char* name : {"model.pt", "model.ts"}) {
        if (fs::is_directory(path, ec) && fs::exists(fs::path(path) / name, ec)) file = fs::path(path) / name;
    }
    if (file != fs::path(path)) {
        if (const auto card = cardBeside(file)) impl->card = readModelCard(*card);
    } else if (fs::is_directory(path, ec)) {
        const MonaiBundle bundle = readMonaiBundle(path);
        impl->card = bundle.card;
        file = bundle.modelFile;
    } else if (const auto card = cardBeside(file)) {
        impl->card = readModelCard(*card);
    } else {
        impl->card.name = file.stem().string();
        impl->card.source = "defaults (no model card beside the file)";
    }
    if (impl->card.name.empty()) impl->card.name = file.stem().string();

    const ComputeDevice& device = computeDevice();
    impl->device = device.cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    if (file.extension() == ".pt2") refuseUnloadable(file, "");
    try {
        impl->module = torch::jit::load(file.string(), impl->device);
    } catch (const c10::Error& e) {
        std::string what = e.what();
        refuseUnloadable(file, what.substr(0, what.find('\n')));
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: cannot load the model: {}", file.string(), e.what()));
    }
    impl->module.eval();
    for (auto parameter : impl->module.parameters())
        parameter.requires_grad_(false);

    impl->inputChannels = !impl->card.inputChannels.empty() ? int64_t(impl->card.inputChannels.size())
                                                            : channelsOfFirstConsumer(impl->module);
    useOwnConvolutions(impl->module);
    return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

std::string Model::summary() const {
    const ModelCard& c = m_impl->card;
    std::string channels = m_impl->inputChannels >= 0 ? std::to_string(m_impl->inputChannels) : "?";
    std::string classes = c.classes.empty() ? "?" : std::to_string(c.classes.size());
    if (const NnunetPlan* plan = nnunetPlan()) {
        std::vector<std::string> folds;
        for (const auto& fold : plan->folds)
            folds.push_back(fold.name);
        return fmt::format("{}: nnU-Net {} {}, fold(s) {}, {} input channel(s) -> {} classes, {:g} x {:g} x {:g} mm, "
                           "on {}",
                           c.name, plan->network.kindName(), plan->configuration, fmt::join(folds, ", "), channels,
                           classes, plan->spacing[0], plan->spacing[1], plan->spacing[2], m_impl->device.str());
    }
    return fmt::format("{}: {} input channel(s) -> {} classes, {}{}, on {}", c.name, channels, classes,
                       c.spacingMm ? fmt::format("{:g} mm", (*c.spacingMm)[0]) : "study grid",
                       c.slidingWindow ? ", sliding window" : ", whole volume", m_impl->device.str());
}

std::vector<LayerInfo> Model::layers(const std::vector<int64_t>& inputShape) const {
    return listModelLayers(*this, inputShape);
}

} // namespace segxai
