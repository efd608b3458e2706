#include "engine/model/mc_dropout.h"

#include "engine/core/error.h"
#include "engine/torch/model_impl.h"

#include <fmt/format.h>

namespace segxai {
namespace {

bool isDropout(const torch::jit::Module& module) {
    const auto name = module.type()->name();
    return name && name->name().find("Dropout") != std::string::npos;
}

// A scripted dropout reads its `training` attribute; a traced one has it as a constant.
bool readsTrainingFlag(const torch::jit::Module& module) {
    const auto forward = module.find_method("forward");
    return forward && forward->graph()->toString().find("name=\"training\"") != std::string::npos;
}

void setTraining(const Model& model, const std::vector<std::string>& paths, bool on) {
    for (const auto& named : model.impl().module.named_modules()) {
        if (std::find(paths.begin(), paths.end(), named.name) != paths.end()) {
            torch::jit::Module sub = named.value;
            sub.train(on);
        }
    }
}

} // namespace

DropoutLayers dropoutLayers(const Model& model) {
    DropoutLayers out;
    if (model.impl().nnunet) {
        out.reason = "nnU-Net folders are rebuilt without dropout at inference";
        return out;
    }
    bool traced = false;
    for (const auto& named : model.impl().module.named_modules()) {
        if (!isDropout(named.value)) continue;
        out.paths.push_back(named.name);
        traced = traced || !readsTrainingFlag(named.value);
    }
    if (out.paths.empty()) {
        out.reason = fmt::format("{} has no dropout layers", model.path());
    } else if (traced) {
        out.reason = fmt::format("{}: its dropout layers ({}) were fixed off when the model was traced; MC dropout "
                                 "needs a scripted model (torch.jit.script)",
                                 model.path(), fmt::join(out.paths, ", "));
    } else {
        out.switchable = true;
    }
    return out;
}

McDropout::McDropout(const Model& model, uint64_t seed) : m_model(model) {
    const DropoutLayers layers = dropoutLayers(model);
    if (!layers.switchable) throw Error("MC dropout: " + layers.reason);
    m_paths = layers.paths;
    setTraining(m_model, m_paths, true);
    reseed(seed);
}

McDropout::~McDropout() {
    setTraining(m_model, m_paths, false);
}

void McDropout::reseed(uint64_t seed) {
    torch::manual_seed(seed);
}

} // namespace segxai
