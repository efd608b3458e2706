#pragma once
#include "engine/core/mirror.h"
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"

#include <memory>

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

// A study's input prepared once for a model (resampled, normalised, as a tensor), to be
// predicted several times: test-time flips, MC dropout passes. Each prediction is the
// segmentation segmentStudy() gives of the study mirrored along `flip`, mirrored back, except
// that the model's grid is mirrored rather than the study's (the same when the model works on
// the study's grid; otherwise along the model grid's axes matching the flipped study axes), so
// the input is not prepared again. nnU-Net folders prepare their input per prediction.
class PreparedStudy {
public:
    // Throws segxai::Error as segmentStudy() does for the input.
    PreparedStudy(const Model& model, const Study& study, JobContext* job = nullptr);
    ~PreparedStudy();
    PreparedStudy(const PreparedStudy&) = delete;
    PreparedStudy& operator=(const PreparedStudy&) = delete;

    // The study segmented with its input mirrored along `flip` (study voxel axes), on the
    // study's grid and mirrored back.
    Segmentation predict(const FlipAxes& flip, JobContext* job = nullptr) const;

private:
    struct Input;
    const Model& m_model;
    const Study& m_study;
    std::unique_ptr<Input> m_input; // null for nnU-Net folders
};

// Frees a study's channel voxels, keeping its geometry, paths and ground truth.
void releaseChannels(Study& study);

} // namespace segxai
