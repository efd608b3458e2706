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

// The same for a caller that needs only the study's geometry afterwards: its channels are
// released as soon as the model's input is prepared (a 512 x 512 x 400 CT is 0.4 GB in
// float32, held otherwise while every window runs).
Segmentation segmentStudy(const Model& model, Study&& study, JobContext* job = nullptr);

// Frees a study's channel voxels, keeping its geometry, paths and ground truth.
void releaseChannels(Study& study);

} // namespace segxai
