#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/workspace.h"
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/analysis/instance_uncertainty.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// What the ensemble is made of, besides the open model (every fold of an nnU-Net folder is a
// member, even when the viewer predicts with fewer).
struct UncertaintySettings {
    std::vector<std::string> extraModels; // more members: TorchScript files, bundles, nnU-Net folders
    bool flips = false;                   // test-time mirroring, each flip a member
    std::string flipAxes = "xyz";
    int intensityPasses = 0; // test-time intensity jitter (gain, gamma, noise), seeded
    double intensityStrength = 0.1;
    uint64_t intensitySeed = 0;
    int spatialPasses = 0; // test-time small rotations and whole-voxel shifts, seeded, mapped back
    double maxRotationDegrees = 5.0;
    int maxShiftVoxels = 2;
    uint64_t spatialSeed = 0;
    int mcDropoutPasses = 0; // scripted models with dropout layers; 0: off
    uint64_t mcDropoutSeed = 0;
    // Explain the Explain tab's target with every member (panel A's first method).
    bool stability = false;

    TestTimeAugmentation augmentation() const;
    // The reverse: the flips, intensity and spatial passes `tta` asks for (0 passes: off).
    void setAugmentation(const TestTimeAugmentation& tta);
};

// The ensemble's uncertainty on the open study (engine/analysis/ensemble_uncertainty.h), shown
// as maps in the comparison panels and as columns of the structure list; with stability, the
// same target explained by every member. Follows the segmentation's generation.
class UncertaintyWork {
public:
    UncertaintyWork(Workspace& workspace, Comparison& comparison) : m_workspace(workspace), m_comparison(comparison) {}

    struct Result {
        UncertaintyRun run;
        UncertaintySettings settings;
        // Per instance of the workspace's structures (Workspace::instances(), same order).
        std::vector<InstanceUncertainty> perStructure;
        // 1 - H(p) / ln(classes) on the study grid: what fades explanations where the model is unsure.
        std::shared_ptr<const Volume> certainty;
        // Predictive entropy, mutual information, disagreement and each std class, as panel maps.
        std::shared_ptr<const ExplanationSet> maps;
        // With stability: the members' mean and standard deviation, then each member's map.
        std::shared_ptr<const ExplanationSet> stabilityMaps;
        // engine/analysis/uncertainty_report.h; with the study's ground truth, "tp_vs_fp".
        nlohmann::json summary;
        uint64_t segmentationGeneration = 0;
    };

    // The members the tab lists besides the open model (models dropped together with it join
    // here); what Run puts in UncertaintySettings::extraModels.
    std::vector<std::string> extraMembers;

    // Runs the ensemble on the engine thread. `stability`: the target every member explains.
    void run(const UncertaintySettings& settings, const std::optional<StabilityRequest>& stability);
    bool running() const;
    // The result for the current segmentation (nullptr when none).
    std::shared_ptr<const Result> result() const;
    // Moves whenever a result arrives.
    uint64_t revision() const { return m_revision; }
    // Called on the UI thread when a run's result has arrived (sessions show their map then).
    std::function<void()> onFinished;
    std::function<void()> onFailed; // ... or it failed or was cancelled

    // Shows uncertainty map `item` (index into result()->maps) in a panel, in the uncertainty
    // colour map; or item `item` of the stability maps.
    void showMap(int panel, int item);
    void showStability(int panel, int item);

    // Writes the maps, instances.csv and summary.json as `segxai uncertainty` does.
    void save(const std::string& folder);

private:
    Workspace& m_workspace;
    Comparison& m_comparison;
    std::shared_ptr<const Result> m_result;
    uint64_t m_revision = 0;
};

} // namespace segxai::app
