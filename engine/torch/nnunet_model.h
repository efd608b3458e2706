#pragma once
// Engine-internal: an nnU-Net results folder as a Model (its folds' networks rebuilt from
// plans.json with the checkpoints' weights) and its predictions as nnU-Net's predictor makes them.
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/segmentation.h"
#include "engine/torch/model_impl.h"

#include <memory>
#include <string>

namespace segxai {

class JobContext;

// Fills `impl` (module, card, nnunet ensemble) from the folder `path` stands for. Throws
// segxai::Error naming the file and the field.
void loadNnunetModel(Model::Impl& impl, const std::string& path, const NnunetOptions& options);

// nnU-Net's prediction of a study: preprocessing, sliding window over every fold (with
// mirroring when on and allowed), export back onto the study's grid.
Segmentation segmentNnunet(const Model& model, const Study& study, JobContext* job);

} // namespace segxai
