// `segxai layers`: every submodule path of a model with its output shape.
#include "app/cli/command.h"
#include "engine/core/error.h"
#include "engine/model/model.h"

#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sstream>

namespace segxai::app {
namespace {

struct LayersOptions {
    std::string model;
    std::string shape;
    NnunetOptions nnunet;
};

std::vector<int64_t> parseShape(const std::string& text, int64_t channels) {
    std::vector<int64_t> shape;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        try {
            shape.push_back(std::stoll(part));
        } catch (const std::exception&) {
            throw Error("--shape expects C,X,Y,Z such as 2,96,112,96, not '" + text + "'");
        }
    }
    if (shape.empty()) shape = {channels > 0 ? channels : 1, 64, 64, 64};
    if (shape.size() == 3) shape.insert(shape.begin(), channels > 0 ? channels : 1);
    if (shape.size() != 4) throw Error("--shape expects C,X,Y,Z (or X,Y,Z), not '" + text + "'");
    for (int64_t s : shape) {
        if (s < 1 || s > 4096) throw Error("--shape sizes must be from 1 to 4096");
    }
    return shape;
}

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t n = 0; n < shape.size(); ++n)
        s += (n ? ", " : "") + std::to_string(shape[n]);
    return s + "]";
}

int run(const LayersOptions& o) {
    const auto model = Model::load(o.model, o.nnunet);
    std::string text = o.shape;
    if (text.empty() && model->nnunetPlan()) text = fmt::format("{}", fmt::join(model->nnunetPlan()->patch, ","));
    const auto shape = parseShape(text, model->expectedInputChannels());
    std::printf("# %s\n# input [1, %lld, %lld, %lld, %lld]\n", model->summary().c_str(), (long long)shape[0],
                (long long)shape[1], (long long)shape[2], (long long)shape[3]);
    for (const LayerInfo& layer : model->layers(shape)) {
        std::printf("%-48s %-22s %s%s%s\n", layer.path.c_str(), layer.type.c_str(),
                    layer.shape.empty() ? "-" : shapeText(layer.shape).c_str(), layer.note.empty() ? "" : "  # ",
                    layer.note.c_str());
    }
    return 0;
}

} // namespace

CommandRun registerLayersCommand(CLI::App& parser) {
    auto* command =
        parser.add_subcommand("layers", "List every submodule path of a model with its output shape (CAM layers)");
    auto o = std::make_shared<LayersOptions>();
    command->add_option("--model", o->model, kModelOptionHelp)->required();
    command->add_option("--shape", o->shape, "Input shape C,X,Y,Z (default: card channels, 64^3; nnU-Net: its patch)");
    addNnunetOptions(*command, o->nnunet);
    return [o] { return runReportingErrors([&] { return run(*o); }); };
}

} // namespace segxai::app
