#include "app/gui/state/messages.h"

#include "engine/core/log.h"

namespace segxai::app {

void Messages::error(const std::string& message) {
    logError("{}", message);
    m_errors.push_back(message);
}

void Messages::jobEnded(const JobReport& report) {
    if (report.status == JobStatus::Failed) error(report.error);
    if (report.status == JobStatus::Cancelled) logInfo("{} cancelled", report.title);
}

std::vector<std::string> Messages::take() {
    std::vector<std::string> errors;
    errors.swap(m_errors);
    return errors;
}

} // namespace segxai::app
