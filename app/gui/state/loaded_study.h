#pragma once
#include "engine/core/volume.h"
#include "engine/io/study.h"
#include "engine/io/study_loader.h"

#include <memory>
#include <vector>

namespace segxai::app {

// A study as the viewer holds it: the immutable engine snapshot plus what the engine thread
// computed for display (value ranges), so the UI thread never scans voxels.
struct LoadedStudy {
    std::shared_ptr<const Study> study;
    std::vector<ValueRange> displayRanges; // per channel, robust (0.5 and 99.5 percentiles)
    std::vector<ValueRange> fullRanges;    // per channel, min and max
    int maxLabel = 0;                      // largest ground-truth label (0 if none)
    std::vector<std::string> channelNames; // what each channel is called (engine/study_channels.h)
};

// Runs on the engine thread.
std::shared_ptr<const LoadedStudy> loadStudyForViewing(const StudyRequest& request, JobContext& job);

} // namespace segxai::app
