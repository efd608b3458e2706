#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/workspace.h"
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

private:
    Workspace& m_workspace;
    Comparison& m_comparison;
    std::shared_ptr<const Result> m_result;
};

} // namespace segxai::app
