#include "engine/model.h"

#include "engine/device.h"
#include "engine/error.h"
#include "engine/log.h"
#include "engine/monai_bundle.h"
#include "engine/torch/layer_capture.h"
#include "engine/torch/model_impl.h"

#include <filesystem>
#include <fmt/format.h>

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

// Input channels a bare model expects, from its first 3D convolution's weight
// [out, in / groups, kx, ky, kz].
int64_t channelsFromFirstConvolution(const torch::jit::Module& module) {
    for (const auto& named : module.named_modules()) {
        const auto type = named.value.type()->name();
        if (!type) continue;
        const std::string name = type->name();
        if (name != "Conv3d" || !named.value.hasattr("weight")) continue;
        const torch::IValue weight = named.value.attr("weight");
        if (!weight.isTensor() || weight.toTensor().dim() != 5) continue;
        int64_t groups = 1;
        if (named.value.hasattr("groups") && named.value.attr("groups").isInt()) groups = named.value.attr("groups").toInt();
        return weight.toTensor().size(1) * groups;
    }
    return -1;
}

} // namespace

Model::Model(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Model::~Model() = default;

const ModelCard& Model::card() const { return m_impl->card; }
const std::string& Model::path() const { return m_impl->path; }
int64_t Model::expectedInputChannels() const { return m_impl->inputChannels; }

std::shared_ptr<const Model> Model::load(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path + ": model not found");
    auto impl = std::make_unique<Impl>();
    impl->path = path;
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
    try {
        impl->module = torch::jit::load(file.string(), impl->device);
    } catch (const c10::Error& e) {
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        throw Error(fmt::format("{}: not a TorchScript model SegXAI can load ({}). Export it with "
                                "torch.jit.trace or torch.jit.script and torch.jit.save",
                                file.string(), what));
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: cannot load the model: {}", file.string(), e.what()));
    }
    impl->module.eval();
    for (auto parameter : impl->module.parameters()) parameter.requires_grad_(false);

    impl->inputChannels = !impl->card.inputChannels.empty() ? int64_t(impl->card.inputChannels.size())
                                                            : channelsFromFirstConvolution(impl->module);
    return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

std::string Model::summary() const {
    const ModelCard& c = m_impl->card;
    std::string channels = m_impl->inputChannels >= 0 ? std::to_string(m_impl->inputChannels) : "?";
    std::string classes = c.classes.empty() ? "?" : std::to_string(c.classes.size());
    return fmt::format("{}: {} input channel(s) -> {} classes, {}{}, on {}", c.name, channels, classes,
                       c.spacingMm ? fmt::format("{:g} mm", (*c.spacingMm)[0]) : "study grid",
                       c.slidingWindow ? ", sliding window" : ", whole volume", m_impl->device.str());
}

std::vector<LayerInfo> Model::layers(const std::vector<int64_t>& inputShape) const {
    return listModelLayers(*this, inputShape);
}

} // namespace segxai
