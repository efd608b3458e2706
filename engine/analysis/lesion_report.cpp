#include "engine/analysis/lesion_report.h"

#include "engine/analysis/report_numbers.h"
#include "engine/core/error.h"
#include "engine/core/job_runner.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"
#include "engine/io/json_text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace segxai {
namespace {

const char* kMethods[] = {"smoothgrad", "smoothgrad-max", "seg-grad-cam++"};

// The MS study's findings on the true positives' SmoothGrad (mean variant).
std::vector<Finding> findingsOf(const LesionAnalysis& a) {
    std::vector<Finding> out;
    std::vector<int> tp;
    for (const Lesion& l : a.lesions.lesions) {
        if (l.group == LesionGroup::TruePositive || l.group == LesionGroup::Unmatched) tp.push_back(l.id);
    }
    const std::string who = a.lesions.hasTruth ? "true-positive lesions" : "lesions (no ground truth: all of them)";
    auto summariesOf = [&](const std::string& channel) {
        std::vector<const LesionMapSummary*> s;
        for (const auto& m : a.summaries) {
            if (m.method == "smoothgrad" && m.channel == channel &&
                std::find(tp.begin(), tp.end(), m.lesionId) != tp.end()) {
                s.push_back(&m);
            }
        }
        return s;
    };
    // The channel that carries most of the attribution inside and around the lesions.
    std::string strongest;
    double strongestShare = -1.0;
    std::map<std::string, double> meanShare;
    for (const std::string& channel : a.channels) {
        const auto s = summariesOf(channel);
        double sum = 0.0;
        for (const auto* m : s)
            sum += m->channelShare;
        meanShare[channel] = s.empty() ? 0.0 : sum / double(s.size());
        if (!s.empty() && meanShare[channel] > strongestShare) {
            strongestShare = meanShare[channel];
            strongest = channel;
        }
    }
    Finding inside{"positive saliency inside lesions", std::nullopt, ""};
    Finding rim{"negative saliency in a rim around lesions (0-2 mm)", std::nullopt, ""};
    if (strongest.empty()) {
        inside.evidence = rim.evidence = "no SmoothGrad maps of " + who;
    } else {
        std::vector<double> positive, negative;
        for (const auto* m : summariesOf(strongest)) {
            positive.push_back(m->rings.sharePositiveInside);
            negative.push_back(m->rings.shareNegativeRim);
        }
        inside.holds = median(positive) > 0.5;
        inside.evidence = fmt::format("{}: median share of positive voxels inside {:.2f} over {} {} (holds when > 0.5)",
                                      strongest, median(positive), positive.size(), who);
        rim.holds = median(negative) > 0.5;
        rim.evidence =
            fmt::format("{}: median share of negative voxels in the 0-2 mm rim {:.2f} over {} {} (holds when > 0.5)",
                        strongest, median(negative), negative.size(), who);
    }
    out.push_back(inside);
    out.push_back(rim);
    Finding flair{"FLAIR carries more attribution than T1", std::nullopt, ""};
    auto find = [&](const char* name) {
        for (const auto& c : a.channels) {
            std::string lower = c;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char ch) { return char(std::tolower(ch)); });
            if (lower.find(name) != std::string::npos) return c;
        }
        return std::string();
    };
    const std::string flairChannel = find("flair"), t1Channel = find("t1");
    if (flairChannel.empty() || t1Channel.empty() || flairChannel == t1Channel) {
        flair.evidence =
            "needs channels named FLAIR and T1; the channels are " + fmt::format("{}", fmt::join(a.channels, ", "));
    } else if (summariesOf(flairChannel).empty()) {
        flair.evidence = "no SmoothGrad maps of " + who;
    } else {
        flair.holds = meanShare[flairChannel] > meanShare[t1Channel];
        flair.evidence = fmt::format("mean share of sum |SmoothGrad| inside and around {}: {} {:.2f}, {} {:.2f}", who,
                                     flairChannel, meanShare[flairChannel], t1Channel, meanShare[t1Channel]);
    }
    out.push_back(flair);
    Finding context{"the model needs a finite context around lesions", std::nullopt, ""};
    std::vector<double> sufficient;
    size_t tested = 0;
    for (int id : tp) {
        auto it = a.context.find(id);
        if (it == a.context.end()) continue;
        ++tested;
        if (it->second.sufficientMm) sufficient.push_back(*it->second.sufficientMm);
    }
    if (tested == 0) {
        context.evidence = "the context experiment did not run on any " + who;
    } else {
        // Most lesions found within the distances tried, and not from the lesion alone (the MS
        // study's model needed about 7 mm).
        const double typical = sufficient.empty() ? std::nan("") : median(sufficient);
        context.holds = sufficient.size() * 2 > tested && typical > 0.0;
        context.evidence =
            fmt::format("{} of {} {} detected with at most {:g} mm of context; median {} mm{} (the MS study: about "
                        "7 mm)",
                        sufficient.size(), tested, who, a.options.contextMaxMm,
                        sufficient.empty() ? std::string("-") : fmt::format("{:g}", typical),
                        typical == 0.0 ? ": the lesion alone suffices" : "");
    }
    out.push_back(context);
    return out;
}

} // namespace

Target lesionTarget(const LesionSet& lesions, int id) {
    const Lesion& l = lesions.lesion(id);
    Target t;
    t.classIndex = lesions.options.classIndex;
    t.className = "lesion";
    t.mask = lesions.mask(id);
    t.voxelCount = size_t(l.voxels);
    t.description = fmt::format("lesion {} ({}), {} voxels", id, lesionGroupName(l.group), l.voxels);
    return t;
}

LesionAnalysis analyseLesions(const Model& model, const Study& study, const Segmentation& segmentation,
                              const LesionAnalysisOptions& options, JobContext* job) {
    const auto start = std::chrono::steady_clock::now();
    LesionAnalysis a;
    a.options = options;
    for (const Volume& c : study.channels)
        a.channels.push_back(c.name);
    if (job) job->progress(0.0f, "finding lesions");
    a.lesions = findLesions(segmentation, study.groundTruth ? &*study.groundTruth : nullptr, options.lesions);
    std::vector<Target> targets;
    for (const Lesion& l : a.lesions.lesions)
        targets.push_back(lesionTarget(a.lesions, l.id));
    const bool anyMap = options.explain.smoothGradMean || options.explain.smoothGradMax || options.explain.camPlusPlus;
    const float explainShare = !anyMap ? 0.0f : options.context ? 0.8f : 1.0f;
    if (anyMap && !targets.empty()) {
        std::optional<JobContext> sub;
        if (job) sub = job->sub(0.0f, explainShare);
        a.maps = explainLesions(model, study, targets, options.explain, sub ? &*sub : nullptr);
    } else {
        a.maps.resize(targets.size());
    }
    // Rings and peaks of every map, and each channel's share of its method.
    for (const Lesion& l : a.lesions.lesions) {
        if (job) job->throwIfStopped();
        const std::vector<uint8_t>& mask = targets[size_t(l.id - 1)].mask;
        const LesionMaps& m = a.maps[size_t(l.id - 1)];
        for (const std::string method : kMethods) {
            std::vector<const ExplanationMap*> list;
            if (method == kMethods[0])
                for (const auto& e : m.smoothGradMean)
                    list.push_back(&e);
            if (method == kMethods[1])
                for (const auto& e : m.smoothGradMax)
                    list.push_back(&e);
            if (method == kMethods[2] && m.camPlusPlus) list.push_back(&*m.camPlusPlus);
            const size_t first = a.summaries.size();
            double total = 0.0;
            for (const ExplanationMap* e : list) {
                LesionMapSummary s;
                s.lesionId = l.id;
                s.method = method;
                s.channel = e->channel;
                s.rings = ringProfile(e->values, study.geometry, mask, options.ringEdgesMm);
                s.peak = peakOf(e->values, study.geometry, mask);
                total += s.rings.absTotal;
                a.summaries.push_back(std::move(s));
            }
            for (size_t n = first; n < a.summaries.size(); ++n) {
                a.summaries[n].channelShare = total > 0.0 ? a.summaries[n].rings.absTotal / total : 0.0;
            }
        }
    }
    if (options.context) {
        std::vector<Target> tested;
        std::vector<int> ids;
        for (const Lesion& l : a.lesions.lesions) {
            const bool predicted = l.group == LesionGroup::TruePositive || l.group == LesionGroup::Unmatched;
            if (options.contextAllLesions || predicted) {
                tested.push_back(targets[size_t(l.id - 1)]);
                ids.push_back(l.id);
            }
        }
        if (!tested.empty()) {
            std::optional<JobContext> sub;
            if (job) sub = job->sub(explainShare, 1.0f);
            const auto curves = contextExperiment(model, study, tested, options.lesions.threshold, options.contextMaxMm,
                                                  options.contextStepMm, sub ? &*sub : nullptr);
            for (size_t n = 0; n < ids.size(); ++n)
                a.context[ids[n]] = curves[n];
        }
    }
    // Peaks compared across groups, per method and channel.
    std::map<std::pair<std::string, std::string>, std::pair<GroupComparison, GroupComparison>> byMap;
    for (const LesionMapSummary& s : a.summaries) {
        auto& [maximum, magnitude] = byMap[{s.method, s.channel}];
        maximum.method = magnitude.method = s.method;
        maximum.channel = magnitude.channel = s.channel;
        maximum.statistic = "maximum";
        magnitude.statistic = "maximum magnitude";
        const std::string group = lesionGroupName(a.lesions.lesion(s.lesionId).group);
        maximum.values[group].push_back(s.peak.maximum);
        magnitude.values[group].push_back(s.peak.maximumMagnitude);
    }
    for (auto& [key, pair] : byMap) {
        for (GroupComparison* c : {&pair.first, &pair.second}) {
            testGroups(*c);
            a.comparisons.push_back(*c);
        }
    }
    a.findings = findingsOf(a);
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (job) job->progress(1.0f, "lesions analysed");
    return a;
}

void testGroups(GroupComparison& c) {
    auto values = [&](const char* g) { return c.values.count(g) ? c.values.at(g) : std::vector<double>{}; };
    c.tpVersusFp = mannWhitneyU(values("TP"), values("FP"));
    c.tpVersusFn = mannWhitneyU(values("TP"), values("FN"));
    c.fpVersusFn = mannWhitneyU(values("FP"), values("FN"));
    c.kruskalWallis = kruskalWallis({values("TP"), values("FP"), values("FN")});
}

json comparisonJson(const GroupComparison& c) {
    json medians;
    for (const auto& [group, v] : c.values)
        medians[group] = number(median(v));
    return {{"method", c.method},
            {"channel", c.channel},
            {"statistic", c.statistic},
            {"median", medians},
            {"mann_whitney_tp_fp", testJson(c.tpVersusFp)},
            {"mann_whitney_tp_fn", testJson(c.tpVersusFn)},
            {"mann_whitney_fp_fn", testJson(c.fpVersusFn)},
            {"kruskal_wallis", testJson(c.kruskalWallis)}};
}

LesionUncertainty lesionUncertainty(const LesionSet& lesions, const UncertaintyMaps& maps) {
    if (!lesions.grid.sameGrid(maps.labels.geometry)) throw Error("the uncertainty maps are not on the lesions' grid");
    // The lesions as structures of the lesion class: a member finds one when its own lesion
    // component overlaps it.
    InstanceSet structures;
    structures.components = lesions.ids;
    for (const Lesion& l : lesions.lesions) {
        Instance instance;
        instance.id = l.id;
        instance.classIndex = lesions.options.classIndex;
        instance.voxels = l.voxels;
        structures.instances.push_back(instance);
    }
    LesionUncertainty u;
    u.members = maps.memberNames;
    u.perLesion = instanceUncertainty(structures, maps);
    const std::vector<std::pair<const char*, double InstanceUncertainty::*>> figures{
        {"mean mutual information", &InstanceUncertainty::meanMutualInformation},
        {"mean entropy", &InstanceUncertainty::meanEntropy},
        {"member share", &InstanceUncertainty::memberShare},
        {"volume cv", &InstanceUncertainty::volumeCv}};
    for (const auto& [name, figure] : figures) {
        GroupComparison c;
        c.method = "ensemble";
        c.statistic = name;
        for (const Lesion& l : lesions.lesions)
            c.values[lesionGroupName(l.group)].push_back(u.perLesion[size_t(l.id - 1)].*figure);
        testGroups(c);
        u.comparisons.push_back(std::move(c));
    }
    return u;
}

json LesionAnalysis::summary() const {
    std::map<std::string, int> counts;
    for (const Lesion& l : lesions.lesions)
        ++counts[lesionGroupName(l.group)];
    json s;
    s["lesions"] = {{"count", lesions.lesions.size()},
                    {"groups", counts},
                    {"threshold", options.lesions.threshold},
                    {"connectivity", options.lesions.connectivity},
                    {"minimum_size", options.lesions.minimumSize},
                    {"class", options.lesions.classIndex}};
    if (lesions.hasTruth) {
        s["detection"] = {{"ground_truth_lesions", lesions.truthLesions},
                          {"detected", lesions.detectedTruthLesions},
                          {"sensitivity", lesions.sensitivity},
                          {"precision", lesions.precision},
                          {"f1", lesions.f1},
                          {"voxel_dice", lesions.voxelDice}};
    }
    const LesionExplainOptions& e = options.explain;
    s["maps"] = {{"methods", lesionMethods(e)},
                 {"samples", e.samples},
                 {"noise_fraction", e.noiseFraction},
                 {"seed", e.seed},
                 {"max_chunks", e.maxChunks},
                 {"layer", e.layer},
                 {"max_variant",
                  "per input voxel, the signed chunk gradient of largest magnitude (chunks: median splits of "
                  "the lesion along its longest extent), averaged over the noise samples"}};
    json peaks = json::array();
    for (const GroupComparison& c : comparisons)
        peaks.push_back(comparisonJson(c));
    s["peak_saliency"] = peaks;
    if (uncertainty) {
        json groups = json::array();
        for (const GroupComparison& c : uncertainty->comparisons)
            groups.push_back(comparisonJson(c));
        s["uncertainty"] = {{"members", uncertainty->members}, {"groups", groups}};
    }
    std::vector<double> sufficient;
    for (const auto& [id, curve] : context) {
        if (curve.sufficientMm) sufficient.push_back(*curve.sufficientMm);
    }
    s["context"] = {{"tested", context.size()},
                    {"detected_within_max", sufficient.size()},
                    {"max_mm", options.contextMaxMm},
                    {"step_mm", options.contextStepMm},
                    {"median_sufficient_mm", number(median(sufficient))}};
    json findingsJson = json::array();
    for (const Finding& f : findings) {
        findingsJson.push_back(
            {{"finding", f.name}, {"holds", f.holds ? json(*f.holds) : json(nullptr)}, {"evidence", f.evidence}});
    }
    s["findings"] = findingsJson;
    s["seconds"] = seconds;
    return s;
}

void writeLesionAnalysis(const LesionAnalysis& a, const Study& study, const std::string& folder, bool writeMaps,
                         const std::vector<std::string>& inputs) {
    std::error_code ec;
    fs::create_directories(fs::path(folder) / "maps", ec);
    if (ec) throw Error(folder + ": cannot create the folder (" + ec.message() + ")");
    auto path = [&](const std::string& name) { return (fs::path(folder) / name).string(); };
    std::string instances =
        "id,group,voxels,volume_mm3,mean_probability,max_probability,centroid_i,centroid_j,centroid_k,"
        "voxel_i,voxel_j,voxel_k,distance_mm,score,context_mm";
    instances += a.uncertainty ? ",mean_entropy,mean_mutual_information,member_share,volume_cv\n" : "\n";
    for (const Lesion& l : a.lesions.lesions) {
        const LesionMaps& m = a.maps[size_t(l.id - 1)];
        auto context = a.context.find(l.id);
        instances += fmt::format(
            "{},{},{},{:.6g},{:.6g},{:.6g},{:.3f},{:.3f},{:.3f},{},{},{},{},{},{}", l.id, lesionGroupName(l.group),
            l.voxels, l.volumeMm3, l.meanProbability, l.maxProbability, l.centroid.x, l.centroid.y, l.centroid.z,
            l.representative[0], l.representative[1], l.representative[2], l.distanceMm ? csvNumber(*l.distanceMm) : "",
            csvNumber(m.score),
            context != a.context.end() && context->second.sufficientMm ? csvNumber(*context->second.sufficientMm) : "");
        if (a.uncertainty) {
            const InstanceUncertainty& u = a.uncertainty->perLesion[size_t(l.id - 1)];
            instances += fmt::format(",{},{},{},{}", csvNumber(u.meanEntropy), csvNumber(u.meanMutualInformation),
                                     csvNumber(u.memberShare), csvNumber(u.volumeCv));
        }
        instances += "\n";
    }
    writeFileAtomically(path("instances.csv"), instances, inputs);

    std::string rings =
        "lesion_id,group,method,channel,region,from_mm,to_mm,voxels,sum,positive_sum,negative_sum,abs_sum,mean,"
        "share_positive,share_negative,histogram_limit";
    const size_t bins = a.summaries.empty() ? 0 : a.summaries.front().rings.regions.front().histogram.size();
    for (size_t b = 0; b < bins; ++b)
        rings += fmt::format(",bin_{}", b + 1);
    rings += "\n";
    std::string peaks = "lesion_id,group,method,channel,maximum,maximum_magnitude,channel_share,share_positive_inside,"
                        "share_negative_rim\n";
    for (const LesionMapSummary& s : a.summaries) {
        const char* group = lesionGroupName(a.lesions.lesion(s.lesionId).group);
        for (const RingRegion& r : s.rings.regions) {
            rings += fmt::format("{},{},{},{},{},{:g},{:g},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}",
                                 s.lesionId, group, s.method, s.channel, r.name, r.fromMm, r.toMm, r.voxels, r.sum,
                                 r.positiveSum, r.negativeSum, r.absSum, r.mean, r.sharePositive, r.shareNegative,
                                 s.rings.limit);
            for (int64_t count : r.histogram)
                rings += fmt::format(",{}", count);
            rings += "\n";
        }
        peaks += fmt::format("{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", s.lesionId, group, s.method, s.channel,
                             s.peak.maximum, s.peak.maximumMagnitude, s.channelShare, s.rings.sharePositiveInside,
                             s.rings.shareNegativeRim);
    }
    writeFileAtomically(path("rings.csv"), rings, inputs);
    writeFileAtomically(path("peaks.csv"), peaks, inputs);

    std::string context = "lesion_id,group,distance_mm,detected,mean_probability,sufficient_mm\n";
    for (const auto& [id, curve] : a.context) {
        for (const ContextPoint& p : curve.points) {
            context += fmt::format("{},{},{:g},{},{:.6g},{}\n", id, lesionGroupName(a.lesions.lesion(id).group), p.mm,
                                   p.detected ? 1 : 0, p.meanProbability,
                                   curve.sufficientMm ? csvNumber(*curve.sufficientMm) : "");
        }
    }
    writeFileAtomically(path("context.csv"), context, inputs);

    LabelVolume ids(study.geometry, "lesions");
    for (size_t n = 0; n < ids.labels.size(); ++n)
        ids.labels[n] = uint16_t(std::min<int32_t>(a.lesions.ids[n], 65535));
    writeLabelVolume(ids, path("lesions.nii.gz"), inputs);
    if (writeMaps) {
        for (const Lesion& l : a.lesions.lesions) {
            const LesionMaps& m = a.maps[size_t(l.id - 1)];
            auto write = [&](const ExplanationMap& e, const std::string& method) {
                const std::string name =
                    fmt::format("maps/lesion_{}_{}{}.nii.gz", l.id, method, e.channel.empty() ? "" : "_" + e.channel);
                writeVolume(inStudyGrid(e, study.geometry), path(name), inputs);
            };
            for (const auto& e : m.smoothGradMean)
                write(e, "smoothgrad");
            for (const auto& e : m.smoothGradMax)
                write(e, "smoothgrad-max");
            if (m.camPlusPlus) write(*m.camPlusPlus, "seg-grad-cam++");
        }
    }
    json summary = a.summary();
    writeFileAtomically(path("summary.json"), readableJson(summary) + "\n", inputs);
}

std::vector<std::string> lesionMethods(const LesionExplainOptions& e) {
    std::vector<std::string> methods;
    if (e.smoothGradMean) methods.push_back("smoothgrad");
    if (e.smoothGradMax) methods.push_back("smoothgrad-max");
    if (e.camPlusPlus) methods.push_back("seg-grad-cam++");
    return methods;
}

void setLesionMethods(LesionExplainOptions& e, const std::vector<std::string>& methods) {
    e.smoothGradMean = e.smoothGradMax = e.camPlusPlus = false;
    for (const std::string& m : methods) {
        if (m == "smoothgrad") {
            e.smoothGradMean = true;
        } else if (m == "smoothgrad-max") {
            e.smoothGradMax = true;
        } else if (m == "seg-grad-cam++") {
            e.camPlusPlus = true;
        } else if (m != "none") {
            throw Error("lesion methods are smoothgrad, smoothgrad-max, seg-grad-cam++ or none, not " + m);
        }
    }
}

} // namespace segxai
