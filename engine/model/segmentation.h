#pragma once
#include "engine/core/volume.h"
#include "engine/model/class_probabilities.h"

#include <string>
#include <vector>

namespace segxai {

// A model's answer for a study, in the study's grid: per-class probabilities (softmax of the
// logits, or the model's own probabilities) and their argmax.
struct Segmentation {
    std::vector<std::string> classNames;
    ClassProbabilities probabilities; // per class, kept compactly
    LabelVolume labels;
    double seconds = 0.0; // preprocessing + forward + mapping back
    std::string device;
    bool slidingWindow = false;
    std::vector<std::string> notes; // how the prediction was made (nnU-Net: folds, mirroring, configuration)
};

} // namespace segxai
