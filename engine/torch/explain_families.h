#pragma once
// Engine-internal: each family of explanation methods, implemented once for every target of
// a problem (explain() runs them with its one target, explainTargets() with many). Each
// returns one explanation per target of `p`, in its order, with maps, score and notes; the
// callers set the timing. All throw segxai::Error (a forward that fails, an unknown layer,
// parameters a method cannot use) and JobCancelled.
#include "engine/torch/explain_common.h"

namespace segxai {

// The method of `method`'s family for every target of `p`: the dispatch of explainTargets().
std::vector<Explanation> explainByFamily(const ExplanationProblem& p, Method method,
                                         const ExplainParameters& parameters, const LabelVolume* segments,
                                         JobContext* job);

// Saliency, absolute saliency, input x gradient: one forward, a backward per target.
std::vector<Explanation> explainInputGradients(const ExplanationProblem& p, Method method,
                                               const ExplainParameters& parameters);
// Seg-Grad-CAM, Seg-HiRes-Grad-CAM, Seg-Grad-CAM++: one forward capturing the layer, a
// backward per target.
std::vector<Explanation> explainCams(const ExplanationProblem& p, Method method, const ExplainParameters& parameters,
                                     JobContext* job);
// explain()'s gradient family for its one target: several of the methods above from one
// forward and one backward, with the CAM maps at the layer's own resolution too.
std::vector<Explanation> explainGradientMethodsTogether(const ExplanationProblem& p, const std::vector<Method>& methods,
                                                        const ExplainParameters& parameters, JobContext* job);

// SmoothGrad and Integrated Gradients: each noisy input or path step forwarded once (in
// batches) and back-propagated once per target.
std::vector<Explanation> explainSmoothGrad(const ExplanationProblem& p, const ExplainParameters& parameters,
                                           JobContext* job);
std::vector<Explanation> explainIntegratedGradients(const ExplanationProblem& p, const ExplainParameters& parameters,
                                                    JobContext* job);

// Occlusion, segment ablation and KernelSHAP: each perturbed input forwarded once, scoring
// every target.
std::vector<Explanation> explainOcclusion(const ExplanationProblem& p, const ExplainParameters& parameters,
                                          JobContext* job);
std::vector<Explanation> explainFeatures(const ExplanationProblem& p, Method method,
                                         const ExplainParameters& parameters, const LabelVolume* segments,
                                         JobContext* job);

} // namespace segxai
