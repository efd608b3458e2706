// Faithfulness and quality metrics of explanation maps (engine/faithfulness.h).
#include "engine/explain/faithfulness.h"

#include "engine/core/error.h"
#include "engine/torch/explain_common.h"
#include "engine/torch/model_impl.h"
#include "engine/torch/tensors.h"

#include <ATen/CPUGeneratorImpl.h>
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
    for (size_t n = 1; n < x.size(); ++n) area += 0.5 * (y[n] + y[n - 1]) * (x[n] - x[n - 1]);
    return area;
}

// Groups of parameters from the output side down: their module paths' first two parts, in
// reverse order of appearance, merged into at most `stages` groups.
std::vector<std::vector<std::string>> layerGroups(const Model& model, int stages) {
    std::vector<std::string> keys;
    for (const auto& p : model.impl().module.named_parameters(true)) {
        const std::string& name = p.name;
        const size_t first = name.find('.'), second = first == std::string::npos ? std::string::npos : name.find('.', first + 1);
        const std::string key = second == std::string::npos ? name.substr(0, first) : name.substr(0, second);
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    std::reverse(keys.begin(), keys.end());
    const size_t n = std::min<size_t>(keys.size(), size_t(std::max(1, stages)));
    std::vector<std::vector<std::string>> groups(n);
    for (size_t k = 0; k < keys.size(); ++k) groups[k * n / keys.size()].push_back(keys[k]);
    return groups;
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
            while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
            for (size_t k = i; k <= j; ++k) r[order[k]] = 0.5 * double(i + j);
            i = j + 1;
        }
        return r;
    };
    return pearson(ranks(a), ranks(b));
}

std::vector<MethodEvaluation> evaluateMethods(const Model& model, const Study& study, const std::vector<Target>& targets,
                                              const std::vector<Method>& methods, const ExplainParameters& parameters,
                                              const std::vector<Metric>& metrics, const MetricOptions& options,
                                              const LabelVolume* segments, JobContext* job) {
    if (targets.empty() || methods.empty()) return {};
    auto wants = [&](Metric m) { return std::find(metrics.begin(), metrics.end(), m) != metrics.end(); };
    if (job) job->progress(0.0f, "preparing the input");
    Problem p{model, study, prepareModelInput(study, model.card(), model.expectedInputChannels()), {}, {}, model.card().reverseAxes};
    p.x = volumesToTensor(p.input.channels, p.reverseAxes);
    std::vector<ScoreTarget> scoreTargets;
    for (const Target& t : targets) scoreTargets.push_back({maskOnModelGrid(t.mask, study.geometry, p.input.grid, p.reverseAxes), t.classIndex});
    p.target = scoreTargets.front();
    const torch::Tensor fill = baselineFor(p, options.baseline);
    const size_t T = targets.size();
    const int64_t N = p.x.size(2) * p.x.size(3) * p.x.size(4);
    const auto clean = scoresForTargets(model, p.x, scoreTargets)[0];
    // The input with the voxels where `mask` ([N] bool) is true taken from `from`, the rest from `rest`.
    auto mixed = [&](const torch::Tensor& mask, const torch::Tensor& from, const torch::Tensor& rest) {
        const torch::Tensor m = mask.view({1, 1, p.x.size(2), p.x.size(3), p.x.size(4)}).expand_as(p.x);
        return torch::where(m, from, rest);
    };
    double done = 0.0;
    const double total = double(methods.size()) * (1.0 + double(wants(Metric::Sensitivity)) * options.sensitivitySamples +
                                                   double(wants(Metric::Randomisation)) * options.randomisationStages) +
                         (wants(Metric::FaithfulnessCorrelation) ? 1.0 : 0.0);
    auto step = [&](double share) -> std::optional<JobContext> {
        if (!job) return std::nullopt;
        job->throwIfStopped();
        const float a = float(done / total), b = float((done + share) / total);
        done += share;
        return job->sub(a, b);
    };

    // Faithfulness correlation: the same random subsets for every method, one forward each
    // scoring every target.
    std::vector<torch::Tensor> subsets;
    std::vector<std::vector<double>> subsetDrops; // [run][target]
    if (wants(Metric::FaithfulnessCorrelation)) {
        auto sub = step(1.0);
        auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed * 0x9E3779B97F4A7C15ull + 5);
        const int64_t size = std::max<int64_t>(1, int64_t(options.subsetFraction * double(N)));
        for (int r = 0; r < options.correlationRuns; ++r) subsets.push_back(torch::randperm(N, generator, torch::kLong).slice(0, 0, size));
        subsetDrops.resize(subsets.size());
        inBatches(int64_t(subsets.size()), parameters.batch, sub ? &*sub : nullptr, "perturbation", [&](int64_t first, int64_t n) {
            const torch::Tensor inputs = batchOf(first, n, [&](int64_t r) {
                torch::Tensor mask = torch::zeros({N}, torch::kBool);
                mask.index_fill_(0, subsets[size_t(r)], true);
                return mixed(mask, fill, p.x);
            });
            const auto s = scoresForTargets(model, inputs, scoreTargets);
            for (int64_t b = 0; b < n; ++b) {
                for (size_t t = 0; t < T; ++t) subsetDrops[size_t(first + b)].push_back(clean[t] - s[size_t(b)][t]);
            }
        });
    }

    std::vector<MethodEvaluation> out;
    for (Method method : methods) {
        auto sub = step(1.0);
        const auto started = Clock::now();
        const std::vector<Explanation> maps = explainTargets(model, study, targets, method, parameters, segments, sub ? &*sub : nullptr);
        const double seconds = secondsSince(started) / double(T);
        std::vector<torch::Tensor> attributions;
        for (const Explanation& e : maps) attributions.push_back(attributionOf(e, p.reverseAxes, false).flatten());
        const size_t first = out.size();
        for (size_t t = 0; t < T; ++t) {
            MethodEvaluation ev;
            ev.method = methodId(method);
            ev.target = targets[t].description.empty() ? targets[t].className : targets[t].description;
            ev.seconds = seconds;
            const torch::Tensor a = attributions[t];
            if (wants(Metric::FaithfulnessCorrelation)) {
                std::vector<double> drops, sums;
                for (size_t r = 0; r < subsets.size(); ++r) {
                    drops.push_back(subsetDrops[r][t]);
                    sums.push_back(a.index_select(0, subsets[r]).sum().item<double>());
                }
                ev.values["faithfulness-correlation"] = pearson(drops, sums);
            }
            if (wants(Metric::Complexity)) {
                const torch::Tensor magnitude = attributionOf(maps[t], p.reverseAxes, true).flatten();
                const double peak = magnitude.max().item<double>();
                ev.values["complexity"] = peak > 0.0 ? (magnitude > options.complexityEpsilon * peak).sum().item<double>() / double(N) : 0.0;
            }
            for (Metric curveMetric : {Metric::Deletion, Metric::Insertion}) {
                if (!wants(curveMetric)) continue;
                const bool deletion = curveMetric == Metric::Deletion;
                for (bool mostFirst : {true, false}) {
                    const torch::Tensor order = std::get<1>(a.sort(0, mostFirst));
                    Curve curve;
                    std::vector<torch::Tensor> inputs;
                    for (int k = 0; k <= options.curveSteps; ++k) {
                        const double fraction = double(k) / double(options.curveSteps);
                        curve.fractions.push_back(fraction);
                        torch::Tensor mask = torch::zeros({N}, torch::kBool);
                        mask.index_fill_(0, order.slice(0, 0, int64_t(std::llround(fraction * double(N)))), true);
                        inputs.push_back(deletion ? mixed(mask, fill, p.x) : mixed(mask, p.x, fill));
                    }
                    inBatches(int64_t(inputs.size()), parameters.batch, nullptr, "curve", [&](int64_t firstInput, int64_t n) {
                        const auto s = scoresForTargets(model, torch::cat(std::vector<torch::Tensor>(inputs.begin() + firstInput,
                                                                                                      inputs.begin() + firstInput + n)),
                                                        {scoreTargets[t]});
                        for (int64_t b = 0; b < n; ++b) curve.scores.push_back(clean[t] != 0.0 ? s[size_t(b)][0] / clean[t] : 0.0);
                    });
                    curve.area = trapezoid(curve.fractions, curve.scores);
                    const std::string name = std::string(deletion ? "deletion" : "insertion") + (mostFirst ? "-morf" : "-lerf");
                    ev.values[name] = curve.area;
                    ev.curves[name] = curve;
                }
            }
            out.push_back(std::move(ev));
        }
        if (wants(Metric::Sensitivity)) {
            // Uniform noise of the given radius in the study's channels; the maps computed again.
            std::vector<double> sums(T, 0.0);
            std::mt19937_64 random(options.seed * 0x9E3779B97F4A7C15ull + 11);
            for (int s = 0; s < options.sensitivitySamples; ++s) {
                auto noiseStep = step(1.0);
                Study noisy = study;
                for (Volume& channel : noisy.channels) {
                    const ValueRange range = finiteRange(channel.voxels);
                    std::uniform_real_distribution<float> u(-float(options.sensitivityRadius) * (range.max - range.min),
                                                            float(options.sensitivityRadius) * (range.max - range.min));
                    for (float& v : channel.voxels) v += u(random);
                }
                const auto again = explainTargets(model, noisy, targets, method, parameters, segments, noiseStep ? &*noiseStep : nullptr);
                for (size_t t = 0; t < T; ++t) {
                    double difference = 0.0, norm = 0.0;
                    for (size_t m = 0; m < again[t].maps.size(); ++m) {
                        const auto& a = maps[t].maps[m].values.voxels;
                        const auto& b = again[t].maps[m].values.voxels;
                        for (size_t n = 0; n < a.size(); ++n) {
                            difference += double(b[n] - a[n]) * double(b[n] - a[n]);
                            norm += double(a[n]) * double(a[n]);
                        }
                    }
                    sums[t] += norm > 0.0 ? std::sqrt(difference / norm) : 0.0;
                }
            }
            for (size_t t = 0; t < T; ++t) out[first + t].values["sensitivity"] = sums[t] / double(std::max(1, options.sensitivitySamples));
        }
        if (wants(Metric::Randomisation)) {
            // Cascading randomisation (Adebayo et al.): from the output side down, each stage's
            // weights drawn anew (normal, the same spread); the maps' rank correlation with the
            // trained model's after each stage.
            const auto random = Model::load(model.path());
            const auto groups = layerGroups(*random, options.randomisationStages);
            auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed * 0x9E3779B97F4A7C15ull + 23);
            for (const auto& group : groups) {
                auto stageStep = step(double(options.randomisationStages) / double(groups.size()));
                {
                    torch::NoGradGuard noGrad; // the weights change in place; the maps below need autograd again
                    for (const auto& parameter : random->impl().module.named_parameters(true)) {
                        const bool inGroup = std::any_of(group.begin(), group.end(), [&](const std::string& key) {
                            return parameter.name == key || parameter.name.rfind(key + ".", 0) == 0;
                        });
                        if (!inGroup) continue;
                        torch::Tensor value = parameter.value;
                        const double spread = value.numel() > 1 ? value.std().item<double>() : std::abs(value.item<double>());
                        value.normal_(0.0, spread > 0.0 ? spread : 0.01, generator);
                    }
                }
                std::vector<Explanation> randomised;
                try {
                    randomised = explainTargets(*random, study, targets, method, parameters, segments, stageStep ? &*stageStep : nullptr);
                } catch (const Error&) {
                    randomised.clear(); // a randomised model that outputs NaN: no correlation to report
                }
                for (size_t t = 0; t < T; ++t) {
                    MethodEvaluation& ev = out[first + t];
                    ev.randomisationStages.push_back(fmt::format("{}", fmt::join(group, " ")));
                    ev.randomisation.push_back(randomised.empty() ? std::nan("")
                                                                  : spearman(toVector(attributions[t]),
                                                                             toVector(attributionOf(randomised[t], p.reverseAxes, false).flatten())));
                }
            }
            for (size_t t = 0; t < T; ++t) out[first + t].values["randomisation"] = out[first + t].randomisation.back();
        }
    }
    if (job) job->progress(1.0f, "evaluated");
    return out;
}

} // namespace segxai
