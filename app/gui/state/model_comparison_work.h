#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/workspace.h"
#include "engine/analysis/explanation_agreement.h"
#include "engine/analysis/model_comparison.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// The open model compared with other versions on the open study, without ground truth
// (engine/analysis/model_comparison.h): class by class Dice and volumes, a disagreement map,
// each class's disagreement reachable in the views, and one target explained by two models
// side by side. Follows the segmentation's generation.
class ModelComparisonWork {
public:
    ModelComparisonWork(Workspace& workspace, Comparison& comparison)
        : m_workspace(workspace), m_comparison(comparison) {}

    struct Result {
        ModelComparison comparison;
        std::vector<std::string> otherPaths;
        // Per row of comparison.classes: a voxel where the two models label the class differently
        // (the one nearest the middle of those voxels), and how many such voxels there are.
        std::vector<Index3> disagreementVoxel;
        std::vector<int64_t> disagreementVoxels;
        std::shared_ptr<const ExplanationSet> disagreementMap;
        uint64_t segmentationGeneration = 0;
    };

    // Segments the study with each of `otherModels` (engine thread); the open model is the reference.
    void compare(const std::vector<std::string>& otherModels);
    bool comparing() const;
    std::shared_ptr<const Result> result() const;

    // Moves the views to where the models disagree on row `row`'s class and shows the
    // disagreement map in panel A.
    void showRow(size_t row);
    // The same target explained by the open model (panel A) and compared model `model`
    // (1.., panel B), side by side, with the difference view.
    void explainSideBySide(size_t model, const TargetSpec& target);

    // How far panels A and B's explanations agree while B shows another model's explanation of
    // A's target (docs/methods.md#explanation-agreement): their maps' rank correlation, top-5 %
    // overlap and each one's positive attribution inside the target.
    struct Agreement {
        MapAgreement maps;
        double insideA = 0.0, insideB = 0.0;
        std::string target;
        uint64_t generationA = 0, generationB = 0; // the panels' results it was made from
    };
    std::shared_ptr<const Agreement> agreement() const;
    // Once per frame: works the agreement out (engine thread) when either panel's result changes.
    void update();

private:
    Workspace& m_workspace;
    Comparison& m_comparison;
    std::shared_ptr<const Result> m_result;
    std::shared_ptr<const Agreement> m_agreement;
    std::pair<uint64_t, uint64_t> m_agreementAsked{0, 0}; // the panels' generations last submitted
};

} // namespace segxai::app
