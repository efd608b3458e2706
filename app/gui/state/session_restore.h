#pragma once
#include "app/gui/state/aggregation_work.h"
#include "app/gui/state/comparison.h"
#include "app/gui/state/lesion_work.h"
#include "app/gui/state/session.h"
#include "app/gui/state/uncertainty_work.h"
#include "app/gui/state/workspace.h"

#include <memory>

namespace segxai::app {

// Opens a saved session: loads its study and model, paints its synthetic lesion, and once
// the study is segmented restores the view, re-runs the panels' explanations, the lesion
// analysis, the aggregation and the ensemble's uncertainty it holds, and shows in the panels
// what they showed. Wired to the
// features' events by the document.
class SessionRestore {
public:
    SessionRestore(Workspace& workspace, Comparison& comparison, LesionWork& lesions, AggregationWork& aggregation,
                   UncertaintyWork& uncertainty);

    void open(const Session& session);

private:
    void studyLoaded();
    void segmented();
    void restorePanels(const Session& session);
    void lesionsAnalysed();
    void aggregated();
    void uncertaintyFinished();
    // The session whose analysis (`restoring`, now cleared) has arrived, while its segmentation
    // is still the workspace's; null otherwise. Forgotten once no other analysis is outstanding.
    std::shared_ptr<const Session> arrived(bool& restoring);
    void applySelection(const Session& session);

    Workspace& m_workspace;
    Comparison& m_comparison;
    LesionWork& m_lesions;
    AggregationWork& m_aggregation;
    UncertaintyWork& m_uncertainty;
    std::shared_ptr<const Session> m_pending;   // waiting for its study to be segmented
    std::shared_ptr<const Session> m_restoring; // its lesion, aggregation or uncertainty results to show
    uint64_t m_restoringSegmentation = 0;       // ... computed on this segmentation
    bool m_restoringLesions = false, m_restoringAggregation = false, m_restoringUncertainty = false;
};

} // namespace segxai::app
