#include "app/cli/command.h"

#include "engine/job_runner.h"
#include "engine/quadrature.h"
#include "engine/study_loader.h"

#include <cstdio>
#include <exception>

namespace segxai::app {

int runReportingErrors(const std::function<int()>& body) {
    try {
        return body();
    } catch (const JobCancelled&) {
        std::fprintf(stderr, "segxai: cancelled\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "segxai: error: %s\n", e.what());
    }
    return 1;
}

ExplainParameters ParameterOptions::resolved() const {
    ExplainParameters p = parameters;
    p.rule = parseQuadratureRule(rule);
    p.baseline = parseBaseline(baseline);
    p.variant = variant == "monai" ? CamPlusPlusVariant::Monai : CamPlusPlusVariant::Paper;
    p.normalize = normalize == "max" ? Normalize::Max : normalize == "minmax" ? Normalize::MinMax : Normalize::None;
    return p;
}

void addParameterOptions(CLI::App& command, ParameterOptions& o) {
    ExplainParameters& p = o.parameters;
    command.add_option("--layer", p.layer, "CAM layer path (segxai layers lists them; default: the card's, else the bottleneck)");
    command.add_option("--samples", p.samples, "SmoothGrad samples (20)")->check(CLI::Range(1, 100000));
    command.add_option("--noise-frac", p.noiseFraction, "SmoothGrad noise: fraction of each channel's range (0.1)")
        ->check(CLI::Range(0.0, 10.0));
    command.add_option("--steps", p.steps, "Integrated Gradients steps (20)")->check(CLI::Range(1, 100000));
    command.add_option("--rule", o.rule, "riemann-left, riemann-right, riemann-middle, trapezoid, gauss-legendre");
    command.add_option("--baseline", o.baseline, "zero, min, blur, blur:SIGMA_MM or a value (IG, occlusion, segment features)");
    command.add_option("--window", p.window, "Occlusion cube edge in model voxels (16)")->check(CLI::Range(1, 4096));
    command.add_option("--stride", p.stride, "Occlusion stride in model voxels (16)")->check(CLI::Range(1, 4096));
    command.add_option("--feature-cube", p.featureCube,
                       "Segment ablation, KernelSHAP: features are cubes of N model voxels (default 0: the predicted segments)")
        ->check(CLI::Range(0, 4096));
    command.add_option("--coalitions", p.coalitions, "KernelSHAP: sampled coalitions (64)")->check(CLI::Range(1, 100000));
    command.add_option("--variant", o.variant, "Seg-Grad-CAM++ variant: paper or monai")->check(CLI::IsMember({"paper", "monai"}));
    command.add_option("--normalize", o.normalize, "none, max or minmax (none)")->check(CLI::IsMember({"none", "max", "minmax"}));
    command.add_option("--seed", p.seed, "Random seed (SmoothGrad, KernelSHAP)");
    command.add_option("--batch", p.batch, "Samples per forward (0: sized to memory)")->check(CLI::Range(0, 4096));
}

CommandInputs loadCommandInputs(const std::vector<std::string>& studies, const std::string& groundTruth, const std::string& model,
                                JobContext& job) {
    StudyRequest request;
    request.channelPaths = studies;
    if (!groundTruth.empty()) request.groundTruthPath = groundTruth;
    job.progress(0.0f, "loading");
    CommandInputs inputs{loadStudy(request), Model::load(model), studies};
    inputs.paths.push_back(model);
    if (!groundTruth.empty()) inputs.paths.push_back(groundTruth);
    return inputs;
}

} // namespace segxai::app
