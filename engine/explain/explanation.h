#pragma once
#include "engine/explain/quadrature.h"
#include "engine/explain/target.h"
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

class JobContext;

// The explanation methods of docs/methods.md.
enum class Method {
    SegGradCam,
    SegHiResGradCam,
    SegGradCamPlusPlus,
    Saliency,
    SaliencyAbs,
    InputXGradient,
    SmoothGrad,
    IntegratedGradients,
    Occlusion,
    SegmentAblation, // perturbation over features: predicted segments, or cubes
    KernelShap,
};

const char* methodId(Method method);       // "seg-grad-cam", ...
const char* methodTitle(Method method);    // "Seg-Grad-CAM", ...
Method parseMethod(const std::string& id); // throws segxai::Error listing the ids
bool isCamMethod(Method method);
// Gradient family: one forward and one backward per target serves all of them.
bool isGradientFamily(Method method);
std::vector<Method> allMethods();

enum class Normalize { None, Max, MinMax };
// How SmoothGrad draws its noise. Independent: each sample its own Gaussian draw (the
// method as published, and Captum's NoiseTunnel). Antithetic: samples come in pairs +e, -e
// of one draw, so every term of the gradient that is odd in the noise (the linear one above
// all) cancels exactly within a pair: the same expectation with less variance per sample.
enum class NoiseSampling { Independent, Antithetic };
enum class CamPlusPlusVariant { Paper, Monai };

// What the input is replaced by: Integrated Gradients' path start, occlusion's fill.
struct Baseline {
    enum class Kind { Zero, ChannelMinimum, Value, Blurred };
    Kind kind = Kind::Zero;
    double value = 0.0;       // Kind::Value (in normalised model-input units)
    double blurSigmaMm = 5.0; // Kind::Blurred: Gaussian blur of the input
};
// "zero", "min", "blur", "blur:SIGMA_MM" or a number. Throws segxai::Error.
Baseline parseBaseline(const std::string& text);
std::string baselineText(const Baseline& baseline);
const char* noiseSamplingName(NoiseSampling sampling); // "independent", "antithetic"
// Throws segxai::Error naming `origin` and the accepted names.
NoiseSampling parseNoiseSampling(const std::string& name, const std::string& origin = "noise sampling");

struct ExplainParameters {
    std::string layer; // CAM layer path; empty: the card's cam_layer, else the bottleneck
    CamPlusPlusVariant variant = CamPlusPlusVariant::Paper;
    int samples = 20;            // SmoothGrad
    double noiseFraction = 0.10; // sigma = fraction * (max - min) of each input channel
    NoiseSampling noiseSampling = NoiseSampling::Independent;
    int steps = 20; // Integrated Gradients
    QuadratureRule rule = QuadratureRule::RiemannMiddle;
    Baseline baseline;   // Integrated Gradients and occlusion
    int window = 16;     // occlusion cube edge, model voxels
    int stride = 16;     // occlusion step, model voxels
    int featureCube = 0; // segment ablation, KernelSHAP: 0: the predicted segments; n: cubes of n model voxels
    int coalitions = 64; // KernelSHAP: sampled coalitions (beside the empty and the full one)
    Normalize normalize = Normalize::None;
    uint64_t seed = 0;
    int batch = 0;             // samples per forward; 0: sized to a memory budget
    InstanceOptions instances; // for instance targets
};

// One map of an explanation. Its values live on the grid the model saw (the study grid, or
// the card's spacing/orientation), placed in the world like any volume: views sample it in
// world space, and inStudyGrid() resamples it for export, so the engine never pays for
// resampling maps nobody writes.
struct ExplanationMap {
    std::string channel; // input channel for input-space methods; empty for CAM and occlusion
    Volume values;
    bool signedValues = false;
};

// The map on the study's grid (linear resampling; a copy when the grids are the same).
Volume inStudyGrid(const ExplanationMap& map, const Geometry& studyGrid);

struct Explanation {
    Method method = Method::SegGradCam;
    ExplainParameters parameters;
    std::string layer;               // CAM methods: the layer used
    std::vector<int64_t> layerShape; // its activation shape
    int classIndex = 0;
    std::string className;
    std::string targetDescription;
    size_t targetVoxels = 0;
    double score = 0.0;                    // S(x) = sum over the target of the class score
    std::string scoreOn;                   // "logits" or "probabilities"
    std::vector<ExplanationMap> maps;      // CAM and occlusion: one; input-space: one per channel
    std::optional<Volume> layerMap;        // CAM: the map at the layer's own resolution, placed in the world
    std::optional<double> completenessGap; // Integrated Gradients
    double seconds = 0.0;                  // the method itself (shared passes split evenly)
    std::vector<std::string> warnings;
    std::vector<std::string> notes; // informational ("one pass served 6 methods")

    nlohmann::json report() const; // target, score, method, every parameter, timing
};

// Explains the model's prediction of `target` with each method in `methods`. Gradient-family
// methods share one forward and one backward. Reports progress and stops on cancel. Maps are
// on the model's grid (see ExplanationMap); input-space maps are gradients with respect to
// the model's (normalised) input. `segments` (the predicted labels, study grid) are the
// features of segment ablation and KernelSHAP unless parameters.featureCube asks for cubes.
// Throws segxai::Error (unknown layer, a forward that fails, segment features without segments).
std::vector<Explanation> explain(const Model& model, const Study& study, const Target& target,
                                 const std::vector<Method>& methods, const ExplainParameters& parameters,
                                 JobContext* job = nullptr, const LabelVolume* segments = nullptr);
// The same for a caller that needs no more of the study's voxels (`segxai explain`): they are
// let go once they are on the model's grid; `study` keeps its geometry, channel names and
// paths. A body CT's voxels are 0.4 GB in float32 beside the explanation's own work.
std::vector<Explanation> explain(const Model& model, Study&& study, const Target& target,
                                 const std::vector<Method>& methods, const ExplainParameters& parameters,
                                 JobContext* job = nullptr, const LabelVolume* segments = nullptr);

// Many targets with one method, sharing the work: gradient methods one forward and a
// backward per target (per sample or step for SmoothGrad and IG), perturbation methods one
// forward per perturbed input scoring every target. Same maps as explain() target by target
// (explain() runs these same computations with its one target). Throws segxai::Error like
// explain(), and when a target does not belong to the study.
std::vector<Explanation> explainTargets(const Model& model, const Study& study, const std::vector<Target>& targets,
                                        Method method, const ExplainParameters& parameters,
                                        const LabelVolume* segments = nullptr, JobContext* job = nullptr);

struct ProblemInput;
// A study as the model sees it (on the model's grid, normalised), made once for explainTargets()
// of several sets of targets: Agg2Exp explains a model's classes a chunk at a time, and each
// call of the overload above prepares the study again (a body CT: seconds of resampling, and
// its voxels held beside the work). `study` and `model` must outlive it; the study may let go of
// its voxels once it is made (releaseVoxels): only its geometry and channel names are read
// after. Throws segxai::Error as explain() does for the input.
class ExplanationInput {
public:
    ExplanationInput(const Model& model, const Study& study, JobContext* job = nullptr);
    ~ExplanationInput();
    ExplanationInput(const ExplanationInput&) = delete;
    ExplanationInput& operator=(const ExplanationInput&) = delete;

    const Model& model() const { return m_model; }
    const Study& study() const { return m_study; }
    const ProblemInput& prepared() const { return *m_prepared; }

private:
    const Model& m_model;
    const Study& m_study;
    std::unique_ptr<ProblemInput> m_prepared;
};
// explainTargets() on a prepared input, taking the targets: each mask (one byte per study voxel)
// is let go once it is on the model's grid, so many targets of a large study hold only their
// weights there.
std::vector<Explanation> explainTargets(const ExplanationInput& input, std::vector<Target>&& targets, Method method,
                                        const ExplainParameters& parameters, const LabelVolume* segments = nullptr,
                                        JobContext* job = nullptr);

// How many of `targets` targets of `study` are explained together (explainInChunks): while
// they are, each holds its mask on the study's grid until its weights are made and, on the
// model's grid, its score weights, its gradient or map per channel and, for SmoothGrad, IG and
// the perturbation methods, their sums (engine/explain/explanation.cpp). As many as fit a
// quarter of the available memory, at most 1.6 GiB, at least one.
size_t targetsPerChunk(const Model& model, const Study& study, size_t targets, Method method);

// `count` targets, each made by `makeTarget(i)` only when its chunk comes, explained `chunk` at
// a time on one prepared input (each chunk's work shared as in explainTargets()), and each
// explanation handed to `take(i, ...)` before the next chunk's targets are made: memory for one
// chunk's masks and maps, whatever the count (every class of a 105-class model, every lesion
// of a cohort study). The maps are those of explainTargets() with every target at once.
// Freed memory goes back to the system between chunks and after the last of several.
void explainInChunks(const ExplanationInput& input, size_t count, size_t chunk,
                     const std::function<Target(size_t)>& makeTarget, Method method,
                     const ExplainParameters& parameters, const LabelVolume* segments, JobContext* job,
                     const std::function<void(size_t, Explanation&&)>& take);

// Perturbation methods: map value of a feature spread over its voxels (its value / its
// voxel count on the model grid), so a segment's sum is its value.
bool isFeatureMethod(Method method);

// The layer CAM methods use when none is given: the card's cam_layer, else the capturable
// layer with the smallest spatial size (the deepest, on ties). Throws segxai::Error when no
// layer has a 3D output.
std::string defaultCamLayer(const Model& model, const std::vector<LayerInfo>& layers);

} // namespace segxai
