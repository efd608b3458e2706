#include "app/gui/state/loaded_model.h"

#include "engine/model/model_input.h"
#include "engine/model/nnunet_plans.h"

#include <algorithm>
#include <filesystem>

namespace segxai::app {

std::vector<int64_t> inputShapeFor(const Model& model, const Geometry* studyGrid) {
    const int64_t channels = std::max<int64_t>(1, model.expectedInputChannels());
    if (model.nnunetPlan() || !studyGrid) {
        if (model.card().slidingWindow) {
            const auto& p = model.card().slidingWindow->patch;
            return {channels, p[0], p[1], p[2]};
        }
        return {channels, 64, 64, 64};
    }
    const Geometry grid = modelGridFor(*studyGrid, model.card());
    const int64_t d = std::max<int64_t>(1, model.card().divisibleBy);
    auto padded = [&](int64_t n) { return (n + d - 1) / d * d; };
    if (model.card().slidingWindow) {
        const auto& p = model.card().slidingWindow->patch;
        return {channels, p[0], p[1], p[2]};
    }
    return {channels, padded(grid.dims[0]), padded(grid.dims[1]), padded(grid.dims[2])};
}

std::shared_ptr<const LoadedModel> catalogue(std::shared_ptr<const Model> model, const Geometry* studyGrid,
                                             std::vector<std::string> notes) {
    auto loaded = std::make_shared<LoadedModel>();
    loaded->layerInputShape = inputShapeFor(*model, studyGrid);
    loaded->layers = model->layers(loaded->layerInputShape);
    loaded->model = std::move(model);
    loaded->notes = std::move(notes);
    return loaded;
}

bool isModelPath(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (isNnunetPath(path)) return true; // a results, configuration or fold folder, or a checkpoint
    if (std::filesystem::is_directory(p, ec)) {
        return std::filesystem::exists(p / "configs" / "metadata.json", ec) ||
               std::filesystem::exists(p / "models" / "model.ts", ec) || std::filesystem::exists(p / "model.pt", ec) ||
               std::filesystem::exists(p / "model.ts", ec);
    }
    const std::string ext = p.extension().string();
    // .pt2 (torch.export) is accepted here so that loading it says why it cannot run.
    return ext == ".pt" || ext == ".ts" || ext == ".pth" || ext == ".torchscript" || ext == ".pt2";
}

} // namespace segxai::app
