#include "engine/demo/scale_model.h"

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/model/model_card.h"
#include "engine/torch/nnunet_network.h"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <torch/torch.h>

namespace segxai {

std::string writeScaleModel(const std::string& folder, const std::vector<std::string>& classNames, uint64_t seed,
                            const ScaleModelShape& shape) {
    NnunetNetwork plan;
    plan.features = shape.features;
    for (size_t s = 0; s < shape.features.size(); ++s) {
        plan.kernels.push_back({3, 3, 3});
        plan.strides.push_back(s == 0 ? std::array<int64_t, 3>{1, 1, 1} : std::array<int64_t, 3>{2, 2, 2});
        plan.perStage.push_back(2);
        if (s > 0) plan.perDecoderStage.push_back(2);
    }
    plan.inputChannels = 1;
    plan.outputChannels = int64_t(classNames.size());
    torch::jit::Module network = buildNnunetNetwork(plan);
    // He initialisation as nnU-Net's InitWeights_He, from a seeded generator.
    auto generator = at::detail::createCPUGenerator(seed);
    for (const auto& p : network.named_parameters(/*recurse=*/true)) {
        torch::NoGradGuard noGrad;
        if (p.value.dim() == 5) {
            const double fanIn = double(p.value[0].numel());
            p.value.normal_(0.0, std::sqrt(2.0 / fanIn), generator);
        }
    }
    network.eval();
    std::filesystem::create_directories(folder);
    const std::string model = folder + "/model.pt";
    writeAtomically(model, ".pt", {}, [&](const std::string& temporary) { network.save(temporary); });

    ModelCard card;
    card.name = fmt::format("Scale benchmark ({} classes, {} stages)", classNames.size(), shape.features.size());
    card.description = fmt::format(
        "A 3D U-Net shaped like TotalSegmentator's nnU-Net (PlainConvUNet, {} stages of {} features, {}^3 patches, "
        "{} mm, CT normalisation) with seeded random weights: for measuring time and memory at scale; its labels "
        "mean nothing.",
        shape.features.size(), fmt::join(shape.features, "-"), shape.patch, shape.spacingMm);
    card.inputChannels = {"ct"};
    for (size_t c = 0; c < classNames.size(); ++c)
        card.classes.push_back({classNames[c], defaultClassColor(c)});
    card.spacingMm = std::array<double, 3>{shape.spacingMm, shape.spacingMm, shape.spacingMm};
    // nnU-Net's CT scheme: clip to the foreground's 0.5-99.5 percentiles, then z-score with the
    // foreground's mean and sd (values of a body CT), as one clipped linear map.
    Normalization ct;
    ct.kind = Normalization::Kind::Range;
    const double lower = -958.0, upper = 1200.0, mean = 60.0, sd = 240.0;
    ct.aMin = lower;
    ct.aMax = upper;
    ct.bMin = (lower - mean) / sd;
    ct.bMax = (upper - mean) / sd;
    ct.clip = true;
    card.normalization = {ct};
    SlidingWindow window;
    window.patch = {shape.patch, shape.patch, shape.patch};
    window.overlap = 0.5;
    card.slidingWindow = window;
    card.divisibleBy = int64_t(1) << (shape.features.size() - 1);
    card.camLayer = fmt::format("encoder.stages.{}", shape.features.size() - 2);
    card.syntheticData = true;
    writeFileAtomically(folder + "/model.json", modelCardToJson(card));
    return model;
}

} // namespace segxai
