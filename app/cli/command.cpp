#include "app/cli/command.h"

#include "engine/job_runner.h"

#include <cstdio>
#include <exception>

namespace segxai::app {

int runReportingErrors(const std::function<int()>& body) {
    try {
        return body();
    } catch (const JobCancelled&) {
        std::fprintf(stderr, "segxai: cancelled\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "segxai: error: %s\n", e.what());
    }
    return 1;
}

} // namespace segxai::app
