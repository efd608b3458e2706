#pragma once
#include "engine/io/study.h"

namespace segxai {

class JobContext;

// Loads the channels and optional ground truth of a study. Channels whose grid differs from
// the first channel's are resampled onto it (linear; the ground truth nearest-neighbour).
// Non-finite voxels become 0 with a warning. Throws segxai::Error naming the file when a file
// cannot be read or a channel does not overlap the first one.
Study loadStudy(const StudyRequest& request, JobContext* job = nullptr);

} // namespace segxai
