#pragma once
#include "engine/model/model_card.h"

#include <string>
#include <vector>

namespace segxai {

// A MONAI bundle folder read as a model card: configs/metadata.json gives the input channel
// and class names (network_data_format), configs/inference.json (when present) the
// preprocessing SegXAI can reproduce: Orientationd (RAS), Spacingd, ScaleIntensityRanged,
// NormalizeIntensityd and SlidingWindowInferer. A model.json in the folder overrides both.
struct MonaiBundle {
    ModelCard card;
    std::string modelFile;          // models/model.ts (or model.pt)
    std::vector<std::string> notes; // what was read from where, and what was not understood
};

// Throws segxai::Error naming the file: missing metadata or model, JSON of the wrong shape.
MonaiBundle readMonaiBundle(const std::string& folder);

} // namespace segxai
