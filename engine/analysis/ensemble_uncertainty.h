#pragma once
#include "engine/analysis/explanation_agreement.h"
#include "engine/analysis/instance_uncertainty.h"
#include "engine/analysis/intensity_augmentation.h"
#include "engine/analysis/spatial_augmentation.h"
#include "engine/analysis/uncertainty.h"
#include "engine/io/study.h"
#include "engine/model/model.h"

#include <memory>
#include <string>
#include <vector>

namespace segxai {

class JobContext;

// One member of an ensemble: a model that predicts on its own (a TorchScript model, a bundle,
// or one fold of an nnU-Net folder).
struct EnsembleMember {
    std::shared_ptr<const Model> model;
    std::string name;
};

// The members the models at `paths` stand for: each path one member, except an nnU-Net folder
// with several folds, which gives one member per fold (predicted as nnU-Net predicts one fold;
// with `ownMirroring` false, without nnU-Net's test-time mirroring, for when flips are members
// of their own). Throws segxai::Error when the members' classes or input channels differ.
std::vector<EnsembleMember> loadEnsemble(const std::vector<std::string>& paths, const NnunetOptions& nnunet,
                                         bool ownMirroring);

struct UncertaintyOptions {
    // Each member runs once per entry, its input mirrored along those voxel axes and its
    // output mirrored back: {{false, false, false}} is no augmentation.
    std::vector<FlipAxes> flips{{false, false, false}};
    // And once more per entry, unflipped, its input's intensities jittered (intensityJitters()).
    std::vector<IntensityJitter> intensity;
    // And once more per entry, unflipped, its input rotated and shifted and its output moved
    // back (spatialJitters()).
    std::vector<SpatialJitter> spatial;
    // The classes whose probability standard deviation is mapped, by name or index; empty:
    // every class but the first (background) when the model has at most 8 classes, else none.
    std::vector<std::string> stdClasses;
    // Monte Carlo dropout: each member and flip runs this many times with its dropout layers
    // on (scripted models; 0: off), pass t seeded with mcDropoutSeed + t.
    int mcDropoutPasses = 0;
    uint64_t mcDropoutSeed = 0;
};

// Test-time augmentation as the command line, batch.json and the viewer name it.
struct TestTimeAugmentation {
    // "none", or any of flips, intensity and spatial joined by '+' ("flips+spatial").
    std::string kind = "none";
    std::string flipAxes = "xyz";
    int intensityPasses = 4;
    double intensityStrength = 0.1;
    uint64_t intensitySeed = 0;
    int spatialPasses = 4;
    double maxRotationDegrees = 5.0;
    int maxShiftVoxels = 2;
    uint64_t spatialSeed = 0;
    bool flips() const { return has("flips"); }
    bool intensity() const { return has("intensity"); }
    bool spatial() const { return has("spatial"); }
    // Sets options.flips, options.intensity and options.spatial. Throws segxai::Error naming a
    // bad kind, axes, pass count, strength, angle or shift.
    void applyTo(UncertaintyOptions& options) const;

private:
    bool has(const std::string& part) const;
};

// One target explained by every member (its first pass, unflipped): how stable the
// explanation is across members.
struct StabilityRequest {
    Method method = Method::SegGradCam;
    TargetSpec target; // resolved on the ensemble's labels
    ExplainParameters parameters;
};

// The flips of `axes` test-time augmentation: no flip, then every non-empty subset of the voxel
// axes named ("x", "y", "z" in any combination; "xyz" gives 8 passes, as nnU-Net's mirroring).
std::vector<FlipAxes> flipsOf(const std::string& axes);

struct UncertaintyRun {
    UncertaintyMaps maps;
    InstanceSet instances; // the structures of maps.labels
    std::vector<InstanceUncertainty> perInstance;
    std::vector<std::string> notes;
    size_t passes = 0; // member x flip predictions
    double seconds = 0.0;
    // With a StabilityRequest: the target and each member's map (channels summed, study grid).
    std::optional<Target> target;
    std::vector<Volume> memberMaps;
    std::optional<ExplanationSpread> stability;
};

// Every member on every flip of the study, one prediction held at a time; the maps, the
// ensemble's structures and their uncertainty.
UncertaintyRun ensembleUncertainty(const std::vector<EnsembleMember>& members, const Study& study,
                                   const UncertaintyOptions& options, JobContext* job = nullptr,
                                   const std::optional<StabilityRequest>& stability = std::nullopt);

} // namespace segxai
