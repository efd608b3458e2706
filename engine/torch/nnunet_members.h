#pragma once
// Engine-internal: CAMs of an nnU-Net ensemble per member. Each member (a fold, unmirrored or
// mirrored over one of the allowed axis combinations) gets its own pass on its own activations;
// the ensemble's maps, input gradient and score are the members' means (the score explained is
// the mean of the members' scores).
#include "engine/model/model.h"
#include "engine/torch/gradient_pass.h"

namespace segxai {

// True when `model` is an nnU-Net ensemble of more than one member.
bool hasNnunetMembers(const Model& model);

// gradientPass() member by member, averaged.
PassResult nnunetMemberAveragedPass(const Model& model, const torch::Tensor& inputs, const ScoreTarget& target,
                                    const PassOptions& options, JobContext* job);

} // namespace segxai
