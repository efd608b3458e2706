#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/uncertainty_work.h"
#include "app/gui/state/workspace.h"
#include "engine/analysis/lesion_report.h"
#include "engine/analysis/synthetic_lesion.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// The lesion-level analysis of the open segmentation (engine/analysis/lesion_report.h) and
// synthetic lesions painted into the study. The analysis follows the segmentation's
// generation; a painted lesion, the study's (a new load removes it).
class LesionWork {
public:
    LesionWork(Workspace& workspace, Comparison& comparison, const UncertaintyWork& uncertainty)
        : m_workspace(workspace), m_comparison(comparison), m_ensemble(uncertainty) {}

    // Runs on the engine thread.
    void analyse(const LesionAnalysisOptions& options);
    bool analysing() const;
    // The analysis of the current segmentation (nullptr when none, or made on another).
    std::shared_ptr<const LesionAnalysis> analysis() const;
    // Moves whenever the analysis is replaced (for panels that cache derived plots).
    uint64_t generation() const { return m_generation; }
    // Moves the views to a lesion, picks its structure and shows its maps in panel A.
    // `method` indexes the lesion's maps (SmoothGrad, its max variant, Seg-Grad-CAM++, those
    // computed), `map` the input channel; -1: the map most of the lesion's attribution is in.
    void show(int id, int method = -1, int map = -1);
    // The lesion picked in the table (0: none).
    int shown() const { return analysis() ? m_shown : 0; }
    void setShown(int id) { m_shown = id; }
    // Each lesion's uncertainty under the ensemble of the Uncertainty tab, once both the analysis
    // and the ensemble's result are there for the current segmentation (nullptr until then).
    std::shared_ptr<const LesionUncertainty> uncertainty() const;
    // Once per frame: works the lesions' uncertainty out when a new analysis or ensemble arrives.
    void update();

    // Writes the analysis as `segxai lesions` does, into `folder` (on the engine thread), with
    // the lesions' uncertainty when there is one.
    void save(const std::string& folder);
    bool saving() const;

    // Paints a synthetic lesion into the open study, which is then segmented again; removing
    // it gives back the study's own voxels.
    void paint(const SyntheticLesion& lesion);
    void removePainted();
    bool painting() const;
    // The lesion painted into the open study (nullopt when none).
    std::optional<SyntheticLesion> painted() const;
    // Paints and segments every radius x contrast scale of `lesion` (the study unpainted).
    void sweep(const SyntheticLesion& lesion, std::vector<double> radiiMm, std::vector<double> contrastScales,
               int classIndex, double threshold);
    bool sweeping() const;
    const std::shared_ptr<const std::vector<SyntheticDetection>>& sweepResult() const { return m_sweep; }

    // Called when an analysis arrives (session restore).
    std::function<void()> onAnalysed;
    // Called when an analysis fails or is cancelled.
    std::function<void()> onAnalysisFailed;

private:
    Workspace& m_workspace;
    Comparison& m_comparison;
    const UncertaintyWork& m_ensemble;
    std::shared_ptr<const LesionAnalysis> m_analysis;
    // The lesions' uncertainty, and the analysis and ensemble result it was made from.
    std::shared_ptr<const LesionUncertainty> m_uncertainty;
    const LesionAnalysis* m_uncertaintyAnalysis = nullptr;
    std::shared_ptr<const UncertaintyWork::Result> m_uncertaintyEnsemble;
    uint64_t m_analysisSegmentation = 0; // the segmentation generation it analysed
    uint64_t m_generation = 0;
    int m_shown = 0;
    std::optional<SyntheticLesion> m_painted;
    uint64_t m_paintedStudy = 0;                    // the study generation with it painted in
    std::shared_ptr<const LoadedStudy> m_unpainted; // the study before it
    std::shared_ptr<const std::vector<SyntheticDetection>> m_sweep;
};

} // namespace segxai::app
