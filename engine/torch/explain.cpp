// explain() and explainTargets() (engine/explain/explanation.h): the set-up and the order of
// the work; each family of methods is run by engine/torch/explain_families.h, once for one
// target or many.
#include "engine/core/error.h"
#include "engine/core/memory_budget.h"
#include "engine/explain/explanation.h"
#include "engine/torch/explain_families.h"

#include <cmath>
#include <map>
#include <optional>

namespace segxai {
namespace {

// The methods in their first order, each once.
std::vector<Method> withoutRepeats(const std::vector<Method>& methods) {
    std::vector<Method> once;
    for (Method m : methods) {
        if (std::find(once.begin(), once.end(), m) == once.end()) once.push_back(m);
    }
    return once;
}

// A method's share of explain()'s progress, in backward passes (or their equivalent).
double progressWeight(Method m, const ExplainParameters& parameters) {
    switch (m) {
    case Method::SmoothGrad:
        return parameters.samples;
    case Method::IntegratedGradients:
        return parameters.steps + 1.0;
    case Method::KernelShap:
        return 0.3 * parameters.coalitions;
    case Method::SegmentAblation:
        return 3.0;
    default:
        return 0.3 * std::pow(std::max(1, 64 / std::max(1, parameters.stride)), 3); // occlusion
    }
}

} // namespace

std::vector<Explanation> explainByFamily(const ExplanationProblem& p, Method method,
                                         const ExplainParameters& parameters, const LabelVolume* segments,
                                         JobContext* job) {
    switch (method) {
    case Method::Saliency:
    case Method::SaliencyAbs:
    case Method::InputXGradient:
        return explainInputGradients(p, method, parameters);
    case Method::SegGradCam:
    case Method::SegHiResGradCam:
    case Method::SegGradCamPlusPlus:
        return explainCams(p, method, parameters, job);
    case Method::SmoothGrad:
        return explainSmoothGrad(p, parameters, job);
    case Method::IntegratedGradients:
        return explainIntegratedGradients(p, parameters, job);
    case Method::Occlusion:
        return explainOcclusion(p, parameters, job);
    case Method::SegmentAblation:
    case Method::KernelShap:
        return explainFeatures(p, method, parameters, segments, job);
    }
    throw Error("unknown explanation method");
}

namespace {

// explain(), letting go of `release`'s voxels (the study's, when given) once the problem is made.
std::vector<Explanation> explainMethods(const Model& model, const Study& study, const Target& target,
                                        const std::vector<Method>& requested, const ExplainParameters& parameters,
                                        JobContext* job, const LabelVolume* segments, Study* release) {
    const std::vector<Method> methods = withoutRepeats(requested);
    if (methods.empty()) return {};
    if (target.mask.size() != study.geometry.voxelCount()) {
        throw Error("the target does not belong to this study");
    }
    const std::vector<Target> targets{target};
    const ExplanationProblem p = makeProblem(model, study, targets, job);
    if (release) releaseVoxels(*release);

    // The gradient family shares one forward and backward; the others run one by one, each
    // with a share of the progress by its count of backward passes.
    std::vector<Method> gradientFamily, others;
    for (Method m : methods)
        (isGradientFamily(m) ? gradientFamily : others).push_back(m);
    double totalWork = gradientFamily.empty() ? 0.0 : 1.0;
    for (Method m : others)
        totalWork += progressWeight(m, parameters);
    JobShares shares(job, totalWork);

    std::map<Method, Explanation> results;
    if (!gradientFamily.empty()) {
        auto sub = shares.next(1.0);
        for (Explanation& e : explainGradientMethodsTogether(p, gradientFamily, parameters, orNull(sub))) {
            results[e.method] = std::move(e);
        }
    }
    for (Method m : others) {
        auto sub = shares.next(progressWeight(m, parameters));
        const auto start = Clock::now();
        results[m] = std::move(explainByFamily(p, m, parameters, segments, orNull(sub)).front());
        results[m].seconds = secondsSince(start);
    }
    std::vector<Explanation> ordered;
    for (Method m : methods)
        ordered.push_back(std::move(results.at(m)));
    if (job) job->progress(1.0f, "explained");
    return ordered;
}

std::vector<Explanation> explainProblem(const ExplanationProblem& p, Method method, const ExplainParameters& parameters,
                                        const LabelVolume* segments, JobContext* job, Clock::time_point start) {
    std::vector<Explanation> out = explainByFamily(p, method, parameters, segments, job);
    // The shared work is split evenly between the targets.
    const double seconds = secondsSince(start);
    for (Explanation& e : out) {
        e.seconds = seconds / double(p.targets.size());
        if (p.targets.size() > 1) {
            e.notes.push_back(fmt::format("{} targets explained together in {:.2f} s", p.targets.size(), seconds));
        }
    }
    if (job) job->progress(1.0f, "explained");
    return out;
}

} // namespace

std::vector<Explanation> explain(const Model& model, const Study& study, const Target& target,
                                 const std::vector<Method>& methods, const ExplainParameters& parameters,
                                 JobContext* job, const LabelVolume* segments) {
    return explainMethods(model, study, target, methods, parameters, job, segments, nullptr);
}

std::vector<Explanation> explain(const Model& model, Study&& study, const Target& target,
                                 const std::vector<Method>& methods, const ExplainParameters& parameters,
                                 JobContext* job, const LabelVolume* segments) {
    return explainMethods(model, study, target, methods, parameters, job, segments, &study);
}

std::vector<Explanation> explainTargets(const Model& model, const Study& study, const std::vector<Target>& targets,
                                        Method method, const ExplainParameters& parameters, const LabelVolume* segments,
                                        JobContext* job) {
    if (targets.empty()) return {};
    const auto start = Clock::now();
    return explainProblem(makeProblem(model, study, targets, job), method, parameters, segments, job, start);
}

ExplanationInput::ExplanationInput(const Model& model, const Study& study, JobContext* job)
    : m_model(model), m_study(study),
      m_prepared(std::make_unique<ProblemInput>(prepareProblemInput(model, study, job))) {}

ExplanationInput::~ExplanationInput() = default;

std::vector<Explanation> explainTargets(const ExplanationInput& input, std::vector<Target>&& targets, Method method,
                                        const ExplainParameters& parameters, const LabelVolume* segments,
                                        JobContext* job) {
    if (targets.empty()) return {};
    const auto start = Clock::now();
    std::vector<Target> owned = std::move(targets);
    const ExplanationProblem p = problemOn(input.model(), input.study(), input.prepared(), owned);
    // problemOn is the masks' last reader (p.targets keeps names, counts and warnings).
    for (Target& t : owned)
        std::vector<uint8_t>().swap(t.mask);
    return explainProblem(p, method, parameters, segments, job, start);
}

void explainInChunks(const ExplanationInput& input, size_t count, size_t chunk,
                     const std::function<Target(size_t)>& makeTarget, Method method,
                     const ExplainParameters& parameters, const LabelVolume* segments, JobContext* job,
                     const std::function<void(size_t, Explanation&&)>& take) {
    chunk = std::max<size_t>(1, chunk);
    for (size_t first = 0; first < count; first += chunk) {
        // The previous chunk's freed pages go back to the system: this chunk's buffers would
        // otherwise be placed among them and fragment the heap (at the scale benchmark the
        // later chunks of every class ran 0.6-0.9 GiB above the first).
        if (first > 0) releaseFreedMemory();
        const size_t last = std::min(count, first + chunk);
        std::vector<Target> targets;
        for (size_t i = first; i < last; ++i)
            targets.push_back(makeTarget(i));
        std::optional<JobContext> part;
        if (job) part = job->sub(float(first) / float(count), float(last) / float(count));
        std::vector<Explanation> explanations =
            explainTargets(input, std::move(targets), method, parameters, segments, part ? &*part : nullptr);
        for (size_t e = 0; e < explanations.size(); ++e)
            take(first + e, std::move(explanations[e]));
        explanations.clear();
    }
    // After a job of several chunks (a large one), its pages go back to the system too; one
    // chunk's stay cached for the next job, which would otherwise fault every buffer in anew
    // (0.3 s of the anatomy demo's 0.6 s aggregation, docs/performance.md).
    if (count > chunk) releaseFreedMemory();
}

} // namespace segxai
