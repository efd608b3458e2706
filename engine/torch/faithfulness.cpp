// Faithfulness and quality metrics of explanation maps (engine/explain/faithfulness.h): a
// small driver and one function per metric.
#include "engine/explain/faithfulness.h"

#include "engine/core/error.h"
#include "engine/torch/explain_common.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/tensors.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace segxai {
namespace {

// A map's attribution per model voxel [X, Y, Z]: the sum over its maps (input channels).
torch::Tensor attributionOf(const Explanation& e, bool reverse, bool absolute) {
    torch::Tensor sum;
    for (const ExplanationMap& m : e.maps) {
        torch::Tensor t = volumesToTensor({m.values}, reverse)[0][0];
        if (absolute) t = t.abs();
        sum = sum.defined() ? sum + t : t.clone();
    }
    return sum;
}

std::vector<double> toVector(const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous().to(torch::kDouble).flatten();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

double trapezoid(const std::vector<double>& x, const std::vector<double>& y) {
    double area = 0.0;
    for (size_t n = 1; n < x.size(); ++n)
        area += 0.5 * (y[n] + y[n - 1]) * (x[n] - x[n - 1]);
    return area;
}

// Groups of parameters from the output side down: their module paths' first two parts, in
// reverse order of appearance, merged into at most `stages` groups.
std::vector<std::vector<std::string>> layerGroups(const Model& model, int stages) {
    std::vector<std::string> keys;
    for (const auto& p : model.impl().module.named_parameters(true)) {
        const std::string& name = p.name;
        const size_t first = name.find('.');
        const size_t second = first == std::string::npos ? std::string::npos : name.find('.', first + 1);
        const std::string key = second == std::string::npos ? name.substr(0, first) : name.substr(0, second);
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    std::reverse(keys.begin(), keys.end());
    const size_t n = std::min<size_t>(keys.size(), size_t(std::max(1, stages)));
    std::vector<std::vector<std::string>> groups(n);
    for (size_t k = 0; k < keys.size(); ++k)
        groups[k * n / keys.size()].push_back(keys[k]);
    return groups;
}

// What every metric of one evaluation works on.
struct Evaluation {
    const ExplanationProblem& problem;
    const ExplainParameters& parameters;
    const std::vector<Metric>& metrics;
    const MetricOptions& options;
    const LabelVolume* segments;
    torch::Tensor fill;        // what removed voxels become
    std::vector<double> clean; // S of each target, unperturbed
    int64_t voxels = 0;        // of the model's grid

    bool wants(Metric m) const { return std::find(metrics.begin(), metrics.end(), m) != metrics.end(); }
    // The maps of `method` for every target, of `model` on `study` (the evaluation's or a
    // changed one).
    std::vector<Explanation> maps(const Model& model, const Study& study, Method method, JobContext* job) const {
        return explainTargets(model, study, problem.targets, method, parameters, segments, job);
    }
};

// The input with the voxels where `mask` ([N] bool) is true taken from `from`, the rest
// from `rest`.
torch::Tensor mixedInput(const Evaluation& ev, const torch::Tensor& mask, const torch::Tensor& from,
                         const torch::Tensor& rest) {
    const torch::Tensor& x = ev.problem.x;
    return torch::where(mask.view({1, 1, x.size(2), x.size(3), x.size(4)}).expand_as(x), from, rest);
}

// Faithfulness correlation's random voxel subsets, the same for every method, and the drop
// of each target's score when each subset is removed (one forward per subset).
struct CorrelationSubsets {
    std::vector<torch::Tensor> subsets;
    std::vector<std::vector<double>> drops; // [subset][target]
};

CorrelationSubsets removeSubsets(const Evaluation& ev, JobContext* job) {
    CorrelationSubsets c;
    auto generator = streamGenerator(ev.options.seed, SeedStream::CorrelationSubsets);
    const int64_t size = std::max<int64_t>(1, int64_t(ev.options.subsetFraction * double(ev.voxels)));
    for (int r = 0; r < ev.options.correlationRuns; ++r) {
        c.subsets.push_back(torch::randperm(ev.voxels, generator, torch::kLong).slice(0, 0, size));
    }
    c.drops.resize(c.subsets.size());
    inBatches(int64_t(c.subsets.size()), ev.parameters.batch, job, "perturbation", [&](int64_t first, int64_t n) {
        const torch::Tensor inputs = batchOf(first, n, [&](int64_t r) {
            torch::Tensor mask = torch::zeros({ev.voxels}, torch::kBool);
            mask.index_fill_(0, c.subsets[size_t(r)], true);
            return mixedInput(ev, mask, ev.fill, ev.problem.x);
        });
        const auto s = scoresForTargets(ev.problem.model, inputs, ev.problem.scoreTargets);
        for (int64_t b = 0; b < n; ++b) {
            for (size_t t = 0; t < ev.clean.size(); ++t) {
                c.drops[size_t(first + b)].push_back(ev.clean[t] - s[size_t(b)][t]);
            }
        }
    });
    return c;
}

// Pearson correlation of the subsets' score drops with their summed attribution.
double faithfulnessCorrelation(const CorrelationSubsets& c, const torch::Tensor& attribution, size_t t) {
    std::vector<double> drops, sums;
    for (size_t r = 0; r < c.subsets.size(); ++r) {
        drops.push_back(c.drops[r][t]);
        sums.push_back(attribution.index_select(0, c.subsets[r]).sum().item<double>());
    }
    return pearson(drops, sums);
}

// The share of voxels whose |attribution| exceeds epsilon times the largest.
double effectiveComplexity(const Evaluation& ev, const Explanation& e) {
    const torch::Tensor magnitude = attributionOf(e, ev.problem.reverseAxes, true).flatten();
    const double peak = magnitude.max().item<double>();
    if (!(peak > 0.0)) return 0.0;
    return (magnitude > ev.options.complexityEpsilon * peak).sum().item<double>() / double(ev.voxels);
}

// Target t's score, normalised by its clean score, as the voxels are removed (deletion) or
// revealed (insertion) in order of attribution, most (or least) relevant first.
Curve perturbationCurve(const Evaluation& ev, const torch::Tensor& attribution, size_t t, bool deletion,
                        bool mostFirst) {
    const torch::Tensor& x = ev.problem.x;
    const torch::Tensor order = std::get<1>(attribution.sort(0, mostFirst));
    Curve curve;
    std::vector<torch::Tensor> inputs;
    for (int k = 0; k <= ev.options.curveSteps; ++k) {
        const double fraction = double(k) / double(ev.options.curveSteps);
        curve.fractions.push_back(fraction);
        torch::Tensor mask = torch::zeros({ev.voxels}, torch::kBool);
        mask.index_fill_(0, order.slice(0, 0, int64_t(std::llround(fraction * double(ev.voxels)))), true);
        inputs.push_back(deletion ? mixedInput(ev, mask, ev.fill, x) : mixedInput(ev, mask, x, ev.fill));
    }
    const double clean = ev.clean[t];
    inBatches(int64_t(inputs.size()), ev.parameters.batch, nullptr, "curve", [&](int64_t first, int64_t n) {
        const torch::Tensor batch =
            torch::cat(std::vector<torch::Tensor>(inputs.begin() + first, inputs.begin() + first + n));
        const auto s = scoresForTargets(ev.problem.model, batch, {ev.problem.scoreTargets[t]});
        for (int64_t b = 0; b < n; ++b)
            curve.scores.push_back(clean != 0.0 ? s[size_t(b)][0] / clean : 0.0);
    });
    curve.area = trapezoid(curve.fractions, curve.scores);
    return curve;
}

// Deletion and insertion, as asked: MoRF and LeRF curves and their areas.
void addCurves(const Evaluation& ev, const torch::Tensor& attribution, size_t t, MethodEvaluation& out) {
    for (Metric metric : {Metric::Deletion, Metric::Insertion}) {
        if (!ev.wants(metric)) continue;
        const bool deletion = metric == Metric::Deletion;
        for (bool mostFirst : {true, false}) {
            const std::string name = std::string(metricId(metric)) + (mostFirst ? "-morf" : "-lerf");
            out.curves[name] = perturbationCurve(ev, attribution, t, deletion, mostFirst);
            out.values[name] = out.curves[name].area;
        }
    }
}

// Relative change of target t's maps, sqrt(|b - a|^2 / |a|^2) over every channel's map.
double relativeChange(const Explanation& a, const Explanation& b) {
    double difference = 0.0, norm = 0.0;
    for (size_t m = 0; m < b.maps.size(); ++m) {
        const auto& va = a.maps[m].values.voxels;
        const auto& vb = b.maps[m].values.voxels;
        for (size_t n = 0; n < va.size(); ++n) {
            difference += double(vb[n] - va[n]) * double(vb[n] - va[n]);
            norm += double(va[n]) * double(va[n]);
        }
    }
    return norm > 0.0 ? std::sqrt(difference / norm) : 0.0;
}

// Average sensitivity per target: uniform noise of the given radius in the study's channels,
// the maps computed again, their relative change averaged over the noisy studies.
std::vector<double> averageSensitivity(const Evaluation& ev, Method method, const std::vector<Explanation>& maps,
                                       JobShares& shares) {
    std::vector<double> sums(maps.size(), 0.0);
    std::mt19937_64 random = streamEngine(ev.options.seed, SeedStream::SensitivityNoise);
    const float radius = float(ev.options.sensitivityRadius);
    for (int s = 0; s < ev.options.sensitivitySamples; ++s) {
        auto sub = shares.next(1.0);
        Study noisy = ev.problem.study;
        for (Volume& channel : noisy.channels) {
            const ValueRange range = finiteRange(channel.voxels);
            std::uniform_real_distribution<float> u(-radius * (range.max - range.min),
                                                    radius * (range.max - range.min));
            for (float& v : channel.voxels)
                v += u(random);
        }
        const auto again = ev.maps(ev.problem.model, noisy, method, orNull(sub));
        for (size_t t = 0; t < sums.size(); ++t)
            sums[t] += relativeChange(maps[t], again[t]);
    }
    for (double& sum : sums)
        sum /= double(std::max(1, ev.options.sensitivitySamples));
    return sums;
}

// Redraws the weights of the parameters in `group` (normal, the same spread as before).
void randomiseWeights(const Model& model, const std::vector<std::string>& group, at::Generator& generator) {
    torch::NoGradGuard noGrad; // the weights change in place; the maps need autograd again
    for (const auto& parameter : model.impl().module.named_parameters(true)) {
        const bool inGroup = std::any_of(group.begin(), group.end(), [&](const std::string& key) {
            return parameter.name == key || parameter.name.rfind(key + ".", 0) == 0;
        });
        if (!inGroup) continue;
        torch::Tensor value = parameter.value;
        const double spread = value.numel() > 1 ? value.std().item<double>() : std::abs(value.item<double>());
        value.normal_(0.0, spread > 0.0 ? spread : 0.01, generator);
    }
}

// Cascading randomisation (Adebayo et al.): from the output side down, each stage's weights
// drawn anew; the maps' rank correlation with the trained model's after each stage, added to
// each target's evaluation in `out`.
void addRandomisation(const Evaluation& ev, Method method, const std::vector<torch::Tensor>& attributions,
                      JobShares& shares, MethodEvaluation* out) {
    const auto random = Model::load(ev.problem.model.path());
    const auto groups = layerGroups(*random, ev.options.randomisationStages);
    auto generator = streamGenerator(ev.options.seed, SeedStream::RandomisedWeights);
    for (const auto& group : groups) {
        auto sub = shares.next(double(ev.options.randomisationStages) / double(groups.size()));
        randomiseWeights(*random, group, generator);
        std::vector<Explanation> randomised;
        try {
            randomised = ev.maps(*random, ev.problem.study, method, orNull(sub));
        } catch (const Error&) {
            randomised.clear(); // a randomised model that outputs NaN: no correlation to report
        }
        for (size_t t = 0; t < attributions.size(); ++t) {
            out[t].randomisationStages.push_back(fmt::format("{}", fmt::join(group, " ")));
            out[t].randomisation.push_back(
                randomised.empty()
                    ? std::nan("")
                    : spearman(toVector(attributions[t]),
                               toVector(attributionOf(randomised[t], ev.problem.reverseAxes, false).flatten())));
        }
    }
    for (size_t t = 0; t < attributions.size(); ++t)
        out[t].values["randomisation"] = out[t].randomisation.back();
}

// One method's evaluation of every target: its maps, then each metric asked for.
std::vector<MethodEvaluation> evaluateMethod(const Evaluation& ev, Method method, const CorrelationSubsets& correlation,
                                             JobShares& shares) {
    const size_t T = ev.problem.targetCount();
    auto sub = shares.next(1.0);
    const auto started = Clock::now();
    const std::vector<Explanation> maps = ev.maps(ev.problem.model, ev.problem.study, method, orNull(sub));
    const double seconds = secondsSince(started) / double(T);
    std::vector<torch::Tensor> attributions;
    for (const Explanation& e : maps)
        attributions.push_back(attributionOf(e, ev.problem.reverseAxes, false).flatten());
    std::vector<MethodEvaluation> out(T);
    for (size_t t = 0; t < T; ++t) {
        const Target& target = ev.problem.targets[t];
        out[t].method = methodId(method);
        out[t].target = target.description.empty() ? target.className : target.description;
        out[t].seconds = seconds;
        if (ev.wants(Metric::FaithfulnessCorrelation)) {
            out[t].values["faithfulness-correlation"] = faithfulnessCorrelation(correlation, attributions[t], t);
        }
        if (ev.wants(Metric::Complexity)) out[t].values["complexity"] = effectiveComplexity(ev, maps[t]);
        addCurves(ev, attributions[t], t, out[t]);
    }
    if (ev.wants(Metric::Sensitivity)) {
        const std::vector<double> sensitivity = averageSensitivity(ev, method, maps, shares);
        for (size_t t = 0; t < T; ++t)
            out[t].values["sensitivity"] = sensitivity[t];
    }
    if (ev.wants(Metric::Randomisation)) addRandomisation(ev, method, attributions, shares, out.data());
    return out;
}

} // namespace

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const size_t n = std::min(a.size(), b.size());
    if (n < 2) return 0.0;
    double ma = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= double(n);
    mb /= double(n);
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    auto ranks = [](const std::vector<double>& v) {
        std::vector<size_t> order(v.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
        std::vector<double> r(v.size());
        for (size_t i = 0; i < order.size();) {
            size_t j = i;
            while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]])
                ++j;
            for (size_t k = i; k <= j; ++k)
                r[order[k]] = 0.5 * double(i + j);
            i = j + 1;
        }
        return r;
    };
    return pearson(ranks(a), ranks(b));
}

std::vector<MethodEvaluation> evaluateMethods(const Model& model, const Study& study,
                                              const std::vector<Target>& targets, const std::vector<Method>& methods,
                                              const ExplainParameters& parameters, const std::vector<Metric>& metrics,
                                              const MetricOptions& options, const LabelVolume* segments,
                                              JobContext* job) {
    if (targets.empty() || methods.empty()) return {};
    const ExplanationProblem p = makeProblem(model, study, targets, job);
    Evaluation ev{p,
                  parameters,
                  metrics,
                  options,
                  segments,
                  baselineFor(p, options.baseline),
                  scoresForTargets(model, p.x, p.scoreTargets)[0],
                  p.x.size(2) * p.x.size(3) * p.x.size(4)};
    // Progress in units of one computation of a method's maps.
    const double perMethod = 1.0 + double(ev.wants(Metric::Sensitivity)) * options.sensitivitySamples +
                             double(ev.wants(Metric::Randomisation)) * options.randomisationStages;
    JobShares shares(job, double(methods.size()) * perMethod + (ev.wants(Metric::FaithfulnessCorrelation) ? 1.0 : 0.0));
    CorrelationSubsets correlation;
    if (ev.wants(Metric::FaithfulnessCorrelation)) {
        auto sub = shares.next(1.0);
        correlation = removeSubsets(ev, orNull(sub));
    }
    std::vector<MethodEvaluation> out;
    for (Method method : methods) {
        for (MethodEvaluation& e : evaluateMethod(ev, method, correlation, shares))
            out.push_back(std::move(e));
    }
    if (job) job->progress(1.0f, "evaluated");
    return out;
}

} // namespace segxai
