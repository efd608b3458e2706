#pragma once
#include "engine/core/job_runner.h"

#include <string>
#include <vector>

namespace segxai::app {

// Errors the user must see: logged, and kept until the UI shows them (a modal dialog).
class Messages {
public:
    void error(const std::string& message);
    // How the job runner reports jobs without a handler of their own: failures are errors,
    // cancellations a line in the log.
    void jobEnded(const JobReport& report);
    std::vector<std::string> take();
    bool empty() const { return m_errors.empty(); }

private:
    std::vector<std::string> m_errors;
};

} // namespace segxai::app
