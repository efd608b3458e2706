#include "app/gui/state/document.h"

namespace segxai::app {

Document::Document(JobRunner& jobs)
    : m_jobs(jobs), workspace(jobs, m_messages), comparison(workspace), uncertainty(workspace, comparison),
      lesions(workspace, comparison, uncertainty), aggregation(workspace, comparison), models(workspace, comparison),
      sessions(workspace, comparison, lesions, aggregation, uncertainty) {
    m_jobs.setFailureHandler([this](const JobReport& report) { m_messages.jobEnded(report); });
}

bool Document::hasResults() const {
    for (const Panel& p : comparison.panels()) {
        if (p.result) return true;
    }
    return lesions.analysis() || aggregation.aggregation() || aggregation.benchmark() || uncertainty.result();
}

uint64_t Document::resultsRevision() const {
    uint64_t revision = lesions.generation() + aggregation.revision() + uncertainty.revision();
    for (const Panel& p : comparison.panels())
        revision += p.generation;
    return revision;
}

void Document::update() {
    m_jobs.drain();
    comparison.update();
    aggregation.update();
    lesions.update();
    models.update();
}

} // namespace segxai::app
