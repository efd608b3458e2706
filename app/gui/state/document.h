#pragma once
#include "app/gui/state/aggregation_work.h"
#include "app/gui/state/comparison.h"
#include "app/gui/state/lesion_work.h"
#include "app/gui/state/messages.h"
#include "app/gui/state/model_comparison_work.h"
#include "app/gui/state/session_restore.h"
#include "app/gui/state/uncertainty_work.h"
#include "app/gui/state/workspace.h"

namespace segxai::app {

// Everything the viewer has open, by feature: the study, model and segmentation (Workspace),
// the comparison panels, the lesion, aggregation, uncertainty and model comparison work, and
// the restore of a saved session. Panels, views, scripts and sessions work on it. UI thread only.
class Document {
    // First: the features below keep references to them.
    JobRunner& m_jobs;
    Messages m_messages;

public:
    explicit Document(JobRunner& jobs);
    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;

    Workspace workspace;
    Comparison comparison;
    UncertaintyWork uncertainty; // before the lesion work, which reads its results
    LesionWork lesions;
    AggregationWork aggregation;
    ModelComparisonWork models;
    SessionRestore sessions;

    // Once per frame: delivers finished jobs to their features, then lets each feature drop
    // what was made on a replaced segmentation.
    void update();
    Messages& messages() { return m_messages; }
    // Whether any explanation or analysis is held, and a number that moves whenever one is
    // made (compared with the one of the last saved session before quitting).
    bool hasResults() const;
    uint64_t resultsRevision() const;
    // Anything computing or loading (the status bar, scripts waiting for quiescence).
    bool busy() const { return !m_jobs.quiescent(); }
};

} // namespace segxai::app
