#include "app/gui/state/loaded_study.h"

#include "engine/core/job_runner.h"
#include "engine/io/study_channels.h"

#include <algorithm>

namespace segxai::app {

std::shared_ptr<const LoadedStudy> loadStudyForViewing(const StudyRequest& request, JobContext& job) {
    auto loaded = std::make_shared<LoadedStudy>();
    auto study = std::make_shared<Study>(loadStudy(request, &job));
    job.progress(0.97f, "computing display ranges");
    for (const Volume& channel : study->channels) {
        loaded->fullRanges.push_back(finiteRange(channel.voxels));
        loaded->displayRanges.push_back(percentileRange(channel.voxels, 0.5, 99.5));
    }
    if (study->groundTruth) {
        const auto& labels = study->groundTruth->labels;
        loaded->maxLabel = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end());
    }
    loaded->channelNames = channelNamesOf(request);
    loaded->study = std::move(study);
    return loaded;
}

} // namespace segxai::app
