#pragma once

#include "app/gui/state/document.h"
#include "engine/core/job_runner.h"

namespace segxai::test {

// Runs the engine's jobs and the document's updates until nothing is left to do: a job that
// finishes may start the next (loading a model segments; a lesion analysis beside an ensemble's
// uncertainty starts each lesion's uncertainty). Waits for quiescence, not idleness: a job that
// has finished but whose result the document has not yet taken is still work to deliver.
inline void runJobsToEnd(JobRunner& jobs, app::Document& document) {
    for (int n = 0; n < 20 && (!jobs.quiescent() || document.workspace.loading()); ++n) {
        jobs.waitIdle();
        document.update();
    }
}

} // namespace segxai::test
