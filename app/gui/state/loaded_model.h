#pragma once
#include "engine/core/geometry.h"
#include "engine/model/model.h"

#include <memory>
#include <string>
#include <vector>

namespace segxai::app {

// A model as the viewer holds it, with its layer catalogue for the open study's input shape.
struct LoadedModel {
    std::shared_ptr<const Model> model;
    std::vector<LayerInfo> layers;
    std::vector<int64_t> layerInputShape; // C, X, Y, Z the catalogue was made for
    std::vector<std::string> notes;
};

// The model's input shape (C, X, Y, Z) for a study grid (nullptr: a 64^3 probe): the grid
// padded to the card's divisor, or the sliding window's patch.
std::vector<int64_t> inputShapeFor(const Model& model, const Geometry* studyGrid);

// The model with its layer catalogue for that shape (runs the model once: engine thread).
std::shared_ptr<const LoadedModel> catalogue(std::shared_ptr<const Model> model, const Geometry* studyGrid,
                                             std::vector<std::string> notes);

// True for TorchScript files (.pt, .ts, .pth) and MONAI bundle folders.
bool isModelPath(const std::string& path);

} // namespace segxai::app
