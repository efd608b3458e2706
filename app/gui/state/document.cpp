#include "app/gui/state/document.h"

namespace segxai::app {

Document::Document(JobRunner& jobs)
    : m_jobs(jobs), workspace(jobs, m_messages), comparison(workspace), lesions(workspace, comparison),
      aggregation(workspace, comparison), sessions(workspace, comparison, lesions, aggregation) {
    m_jobs.setFailureHandler([this](const JobReport& report) { m_messages.jobEnded(report); });
}

void Document::update() {
    m_jobs.drain();
    comparison.update();
    aggregation.update();
}

} // namespace segxai::app
