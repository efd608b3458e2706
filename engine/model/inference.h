#pragma once
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

namespace segxai {

class JobContext;

// Segments a study: prepares the input as the card says (channels, reorientation, spacing,
// normalisation, padding), runs the model without autograd (whole volume, or sliding window
// when the card sets a patch), checks the output and maps it back to the study grid.
// Throws segxai::Error: channel-count mismatch, a forward that throws, an output that is not
// [1, classes, spatial...] of the input's spatial size, NaN or infinite outputs.
Segmentation segmentStudy(const Model& model, const Study& study, JobContext* job = nullptr);

} // namespace segxai
