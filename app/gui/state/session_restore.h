#pragma once
#include "app/gui/state/aggregation_work.h"
#include "app/gui/state/comparison.h"
#include "app/gui/state/lesion_work.h"
#include "app/gui/state/session.h"
#include "app/gui/state/workspace.h"

#include <memory>

namespace segxai::app {

// Opens a saved session: loads its study and model, paints its synthetic lesion, and once
// the study is segmented restores the view, re-runs the panels' explanations, the lesion
// analysis and the aggregation it holds, and shows in panel A what it showed. Wired to the
// features' events by the document.
class SessionRestore {
public:
    SessionRestore(Workspace& workspace, Comparison& comparison, LesionWork& lesions, AggregationWork& aggregation);

    void open(const Session& session);

private:
    void studyLoaded();
    void segmented();
    void restorePanels(const Session& session);
    void lesionsAnalysed();
    void aggregated();
    void applySelection(const Session& session);

    Workspace& m_workspace;
    Comparison& m_comparison;
    LesionWork& m_lesions;
    AggregationWork& m_aggregation;
    std::shared_ptr<const Session> m_pending;   // waiting for its study to be segmented
    std::shared_ptr<const Session> m_restoring; // its lesion or aggregation results to show
    uint64_t m_restoringSegmentation = 0;       // ... computed on this segmentation
    bool m_restoringLesions = false, m_restoringAggregation = false;
};

} // namespace segxai::app
