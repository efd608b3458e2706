#pragma once
#include "engine/io/study.h"
#include "engine/model/model_card.h"

#include <vector>

namespace segxai {

// A study as a model sees it: its channels resampled onto the model's grid (reoriented to
// RAS and/or resampled to the card's spacing, when the card asks) and normalised.
struct ModelInput {
    Geometry grid;
    std::vector<Volume> channels;
};

// The model's grid for a study grid: RAS reorientation first, then the card's spacing
// (MONAI's Orientationd then Spacingd). The study grid itself when the card asks neither.
Geometry modelGridFor(const Geometry& studyGrid, const ModelCard& card);

// Throws segxai::Error when the study's channel count differs from what the model expects
// (`expectedChannels` < 0: unknown, any count is passed on).
ModelInput prepareModelInput(const Study& study, const ModelCard& card, int64_t expectedChannels);

// Normalises in place. z-score: population mean and standard deviation (over non-zero voxels
// when asked, zeros then stay zero; a zero deviation counts as 1, as in MONAI).
void normalize(std::vector<float>& voxels, const Normalization& n);

} // namespace segxai
