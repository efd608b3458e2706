#pragma once
#include "engine/model/model_card.h"
#include "engine/model/nnunet_plans.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace segxai {

// A submodule of a TorchScript model that explanations can use, with the shape it produced
// for a given input.
struct LayerInfo {
    std::string path;           // dotted path ("model.1.submodule.2"); "path#k" for the k-th call
    std::string type;           // module class ("Conv3d", "SkipConnection", ...)
    std::vector<int64_t> shape; // output shape; empty when it is not a single tensor
    bool capturable = false;    // CAM methods can use it
    std::string note;           // why not, or a caveat
};

// A TorchScript segmentation model with its card, ready on the engine's device (CUDA when the
// linked LibTorch has it and a GPU is present, else the CPU). Torch types stay inside the
// engine: Model::Impl is defined in engine/torch/model_impl.h.
class Model {
public:
    struct Impl;

    // Loads `path`: a TorchScript file (.pt/.ts/.pth) with an optional card beside it
    // (<name>.json, or model.json), a folder holding model.pt (or model.ts) and model.json,
    // a MONAI bundle folder (configs/metadata.json + models/model.ts), or an nnU-Net v2
    // results folder (a dataset folder, a <Trainer>__<Plans>__<configuration> folder, one of
    // its fold folders or checkpoints; `nnunet` chooses folds, checkpoint and mirroring).
    // Throws segxai::Error naming the file and what is wrong.
    static std::shared_ptr<const Model> load(const std::string& path, const NnunetOptions& nnunet = {});
    ~Model();

    const ModelCard& card() const;
    const std::string& path() const;
    // Input channels from the card, else from the first convolution's weights; -1 if unknown.
    int64_t expectedInputChannels() const;
    std::string summary() const; // one line for logs and the UI

    // The layer catalogue for an input shape (C, X, Y, Z), from one no-grad forward.
    // Throws segxai::Error when the forward fails.
    std::vector<LayerInfo> layers(const std::vector<int64_t>& inputShape) const;

    // The nnU-Net plan (folds, configuration, labels) when this is an nnU-Net folder, else null.
    const NnunetPlan* nnunetPlan() const;
    // How the nnU-Net folder's folds, checkpoint and mirroring were chosen, and the choices it
    // offers; null for other models.
    const NnunetSelection* nnunetSelection() const;
    // What the model's predictions are made of, for logs and reports (nnU-Net: folds,
    // mirroring, configuration).
    std::vector<std::string> predictionNotes() const;

    Impl& impl() const { return *m_impl; }
    // Engine-internal: a model made from its torch side (an nnU-Net ensemble's members).
    static std::shared_ptr<const Model> fromImpl(std::unique_ptr<Impl> impl);

private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace segxai
