#include "app/cli/command.h"

#include "engine/job_runner.h"
#include "engine/study_loader.h"

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

CommandInputs loadCommandInputs(const std::vector<std::string>& studies, const std::string& groundTruth, const std::string& model,
                                JobContext& job) {
    StudyRequest request;
    request.channelPaths = studies;
    if (!groundTruth.empty()) request.groundTruthPath = groundTruth;
    job.progress(0.0f, "loading");
    CommandInputs inputs{loadStudy(request), Model::load(model), studies};
    inputs.paths.push_back(model);
    if (!groundTruth.empty()) inputs.paths.push_back(groundTruth);
    return inputs;
}

} // namespace segxai::app
