#include "engine/explain/explanation.h"

#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/core/resample.h"
#include "engine/model/model_input.h"

#include <fmt/format.h>

namespace segxai {

bool isFeatureMethod(Method m) {
    return m == Method::SegmentAblation || m == Method::KernelShap;
}

bool isCamMethod(Method m) {
    return m == Method::SegGradCam || m == Method::SegHiResGradCam || m == Method::SegGradCamPlusPlus;
}

bool isGradientFamily(Method m) {
    return isCamMethod(m) || m == Method::Saliency || m == Method::SaliencyAbs || m == Method::InputXGradient;
}

// While targets are explained together each holds, on the model's grid, its score weights and
// its input gradient per channel (padded to the windows: a fifth more), then its map per
// channel in place of the gradient; its mask on the study's grid only until the weights are
// made (explainTargets). The rest of the job (the model's passes) is the same for any number
// (a CAM's stitched layer is bounded per pass by gradientPasses). Explaining together saves
// forwards: one for every target on whole-volume models, one per window for the targets it
// touches on sliding-window models. So: every target when they fit a quarter of the available
// memory, at most 1.6 GiB, else as many as fit, at least one. The cap is below the 2 GiB of one
// pass's targets because the chunks sit beside the whole job's working set: at
// TotalSegmentator's scale (105 classes, 128^3 windows) the windows, the study and its labels
// take about 5.6 GiB without any class, and 8 classes (2 GiB) reached 7.4 GiB
// (docs/performance.md#every-class), against the 8 GB the job should stay within. The other
// methods (SmoothGrad and Integrated Gradients sum a batch of gradients per target,
// perturbation methods score many inputs) are reckoned at about twice that, with the mask held
// throughout.
size_t targetsPerChunk(const Model& model, const Study& study, size_t targets, Method method) {
    const uint64_t modelVoxels = uint64_t(modelGridFor(study.geometry, model.card()).voxelCount());
    const uint64_t channels = std::max<size_t>(1, study.channels.size());
    const uint64_t onePass = modelVoxels * 4 * (5 + 6 * channels) / 5;
    const uint64_t perTarget = isGradientFamily(method)
                                   ? std::max<uint64_t>(study.geometry.voxelCount() + modelVoxels * 4, onePass)
                                   : study.geometry.voxelCount() + modelVoxels * 4 * (2 + 2 * channels) * 6 / 5;
    return itemsForQuarterBudget(perTarget, targets, uint64_t(1600) << 20);
}

Volume inStudyGrid(const ExplanationMap& map, const Geometry& studyGrid) {
    return map.values.geometry.sameGrid(studyGrid) ? map.values : resampleLinear(map.values, studyGrid);
}

Baseline parseBaseline(const std::string& text) {
    Baseline b;
    if (text == "zero") return b;
    if (text == "min") {
        b.kind = Baseline::Kind::ChannelMinimum;
        return b;
    }
    if (text.rfind("blur", 0) == 0) {
        b.kind = Baseline::Kind::Blurred;
        if (text.size() > 5 && text[4] == ':') {
            try {
                b.blurSigmaMm = std::stod(text.substr(5));
            } catch (const std::exception&) {
                throw Error("baseline '" + text + "': blur:SIGMA needs a number of mm");
            }
            if (!(b.blurSigmaMm > 0.0)) throw Error("baseline '" + text + "': the blur sigma must be positive");
        } else if (text != "blur") {
            throw Error("baseline '" + text + "': use blur or blur:SIGMA_MM");
        }
        return b;
    }
    try {
        size_t used = 0;
        b.value = std::stod(text, &used);
        if (used != text.size() || !std::isfinite(b.value)) throw std::invalid_argument(text);
        b.kind = Baseline::Kind::Value;
        return b;
    } catch (const std::exception&) {
        throw Error("baseline '" + text + "': use zero, min, blur, blur:SIGMA_MM or a number");
    }
}

const char* noiseSamplingName(NoiseSampling sampling) {
    return sampling == NoiseSampling::Antithetic ? "antithetic" : "independent";
}

NoiseSampling parseNoiseSampling(const std::string& name, const std::string& origin) {
    if (name == "independent") return NoiseSampling::Independent;
    if (name == "antithetic") return NoiseSampling::Antithetic;
    throw Error(origin + ": '" + name + "' is not a noise sampling; use independent or antithetic");
}

std::string baselineText(const Baseline& b) {
    switch (b.kind) {
    case Baseline::Kind::Zero:
        return "zero";
    case Baseline::Kind::ChannelMinimum:
        return "min";
    case Baseline::Kind::Value:
        return fmt::format("{:g}", b.value);
    case Baseline::Kind::Blurred:
        return fmt::format("blur:{:g}", b.blurSigmaMm);
    }
    return "";
}

nlohmann::json Explanation::report() const {
    nlohmann::json p;
    const ExplainParameters& x = parameters;
    p["normalize"] = x.normalize == Normalize::None ? "none" : x.normalize == Normalize::Max ? "max" : "minmax";
    if (isCamMethod(method)) {
        p["layer"] = layer;
        p["layer_shape"] = layerShape;
        p["post_processing"] = "relu at the layer, trilinear upsampling (align_corners=false), normalisation";
        if (method == Method::SegGradCamPlusPlus)
            p["variant"] = x.variant == CamPlusPlusVariant::Paper ? "paper" : "monai";
    }
    if (method == Method::SmoothGrad) {
        p["samples"] = x.samples;
        p["noise_fraction"] = x.noiseFraction;
        p["noise_range"] = "per input channel (max - min of the normalised input)";
        p["seed"] = x.seed;
    }
    if (method == Method::IntegratedGradients) {
        p["steps"] = x.steps;
        p["rule"] = quadratureName(x.rule);
        p["baseline"] = baselineText(x.baseline);
    }
    if (method == Method::Occlusion) {
        p["window"] = x.window;
        p["stride"] = x.stride;
        p["baseline"] = baselineText(x.baseline);
    }
    if (isFeatureMethod(method)) {
        p["features"] =
            x.featureCube > 0 ? fmt::format("cubes of {} model voxels", x.featureCube) : "the predicted segments";
        p["baseline"] = baselineText(x.baseline);
        p["spread"] = "a feature's value divided evenly over its voxels";
        if (method == Method::KernelShap) p["coalitions"] = x.coalitions;
    }
    if (!isCamMethod(method) && method != Method::Occlusion && !isFeatureMethod(method)) {
        p["gradient_of"] = "the model's normalised input";
    }
    p["batch"] = x.batch;
    nlohmann::json r = {{"method", methodId(method)},
                        {"method_title", methodTitle(method)},
                        {"parameters", p},
                        {"target",
                         {{"description", targetDescription},
                          {"class", className},
                          {"class_index", classIndex},
                          {"voxels", targetVoxels}}},
                        {"score", score},
                        {"score_on", scoreOn},
                        {"method_seconds", seconds},
                        {"warnings", warnings},
                        {"notes", notes}};
    if (completenessGap) r["completeness_gap"] = *completenessGap;
    return r;
}

} // namespace segxai
