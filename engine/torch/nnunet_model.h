#pragma once
// Engine-internal: an nnU-Net results folder as a Model (its folds' networks rebuilt from
// plans.json with the checkpoints' weights) and its predictions as nnU-Net's predictor makes them.
#include "engine/explain/target.h"
#include "engine/io/study.h"
#include "engine/model/model.h"
#include "engine/model/model_input.h"
#include "engine/model/nnunet_preprocess.h"
#include "engine/model/segmentation.h"
#include "engine/torch/gradient_pass.h"
#include "engine/torch/model_impl.h"

#include <memory>
#include <string>

namespace segxai {

class JobContext;

// Fills `impl` (module, card, nnunet ensemble) from the folder `path` stands for. Throws
// segxai::Error naming the file and the field.
void loadNnunetModel(Model::Impl& impl, const std::string& path, const NnunetOptions& options);

// nnU-Net's prediction of a study: preprocessing, sliding window over every fold (with
// mirroring when on and allowed), export back onto the study's grid. `releasable`: the same
// study when the caller needs only its geometry afterwards; its channels are released once
// preprocessed.
Segmentation segmentNnunet(const Model& model, const Study& study, JobContext* job, Study* releasable = nullptr);

// Each target's score weights on the networks' grid (nnunetPreprocess()'s `recipe`; tensor axes
// in nnU-Net's internal order, the card's reverseAxes): the adjoint of the export's resampling,
// so a score is the target's sum of the logits nnU-Net exports. Region models: a class's output
// is its region's. Throws segxai::Error for a region model's background.
std::vector<ScoreTarget> nnunetScoreTargets(const Model& model, const NnunetCase& recipe,
                                            const std::vector<Target>& targets);

} // namespace segxai
