#include "app/gui/state/uncertainty_work.h"

#include "engine/analysis/uncertainty_report.h"
#include "engine/core/error.h"
#include "engine/core/log.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace segxai::app {
namespace {

const JobSlot kUncertaintySlot{"uncertainty"};
const JobSlot kFilesSlot{"uncertainty files"};

Explanation mapItem(const Volume& values, bool signedValues) {
    Explanation e;
    e.maps.push_back(ExplanationMap{"", values, signedValues});
    return e;
}

// The ensemble's foreground: where each map's share "in the target" is counted (what a panel
// names as the maps' target: "ensemble").
Target foregroundOf(const UncertaintyMaps& maps) {
    Target target;
    target.description = "ensemble";
    target.mask.resize(maps.labels.labels.size());
    for (size_t n = 0; n < target.mask.size(); ++n) {
        target.mask[n] = maps.labels.labels[n] != 0;
        target.voxelCount += target.mask[n];
    }
    return target;
}

std::shared_ptr<const ExplanationSet> uncertaintyMaps(const UncertaintyRun& run, const Geometry& grid,
                                                      uint64_t generation) {
    const UncertaintyMaps& maps = run.maps;
    std::vector<Explanation> items{mapItem(maps.entropy, false), mapItem(maps.mutualInformation, false),
                                   mapItem(maps.disagreement, false), mapItem(maps.expectedEntropy, false)};
    std::vector<std::string> titles{"predictive entropy", "mutual information", "members' disagreement",
                                    "expected entropy"};
    for (size_t n = 0; n < maps.stdClasses.size(); ++n) {
        items.push_back(mapItem(maps.classStd[n], false));
        titles.push_back("std of p(" + maps.classNames[maps.stdClasses[n]] + ")");
    }
    auto set = makeExplanationSet(std::move(items), foregroundOf(maps), grid, sourceOf(MapSource::Kind::Uncertainty),
                                  generation);
    set->titles = std::move(titles);
    // Each map on its own absolute scale, the same on every study: from 0 to the most it can be
    // (ln of the class count for entropies, every member for the disagreement, 1/2 for a std).
    const float most = float(std::log(double(std::max<size_t>(2, maps.classNames.size()))));
    const std::string ln = fmt::format("ln {} = {:.2f}, the most", std::max<size_t>(2, maps.classNames.size()), most);
    const std::vector<std::pair<float, std::string>> scales{
        {most, ln}, {most, ln}, {1.0f, "1, every member"}, {most, ln}};
    for (size_t n = 0; n < set->figures.size(); ++n) {
        const auto& [extent, name] =
            n < scales.size() ? scales[n] : std::pair<float, std::string>{0.5f, "0.5, the most"};
        set->figures[n].front().extent = extent;
        set->figures[n].front().extentName = name;
    }
    set->seconds = run.seconds;
    return set;
}

std::shared_ptr<const ExplanationSet> stabilityMaps(const UncertaintyRun& run, Method method, const Geometry& grid,
                                                    uint64_t generation) {
    const ExplanationSpread& spread = *run.stability;
    const bool signedValues =
        std::any_of(spread.mean.voxels.begin(), spread.mean.voxels.end(), [](float v) { return v < 0.0f; });
    std::vector<Explanation> items{mapItem(spread.mean, signedValues), mapItem(spread.deviation, false)};
    const std::string title = methodTitle(method);
    std::vector<std::string> titles{fmt::format("{}: mean of {} members", title, run.memberMaps.size()),
                                    fmt::format("{}: std over members", title)};
    for (size_t m = 0; m < run.memberMaps.size(); ++m) {
        items.push_back(mapItem(run.memberMaps[m], signedValues));
        titles.push_back(fmt::format("{}: {}", title, spread.names[m]));
    }
    for (Explanation& e : items) {
        e.method = method;
        e.targetDescription = run.target->description;
    }
    auto set =
        makeExplanationSet(std::move(items), *run.target, grid, sourceOf(MapSource::Kind::Stability), generation);
    set->titles = std::move(titles);
    set->seconds = run.seconds;
    return set;
}

Volume certaintyOf(const UncertaintyMaps& maps) {
    Volume certainty = maps.entropy;
    const double most = std::log(double(std::max<size_t>(2, maps.classNames.size())));
    for (float& v : certainty.voxels)
        v = float(std::clamp(1.0 - double(v) / most, 0.0, 1.0));
    return certainty;
}

} // namespace

TestTimeAugmentation UncertaintySettings::augmentation() const {
    TestTimeAugmentation t;
    std::vector<std::string> kinds;
    if (flips) kinds.push_back("flips");
    if (intensityPasses > 0) kinds.push_back("intensity");
    if (spatialPasses > 0) kinds.push_back("spatial");
    t.kind = kinds.empty() ? "none" : fmt::format("{}", fmt::join(kinds, "+"));
    t.flipAxes = flipAxes;
    t.intensityPasses = intensityPasses;
    t.intensityStrength = intensityStrength;
    t.intensitySeed = intensitySeed;
    t.spatialPasses = spatialPasses;
    t.maxRotationDegrees = maxRotationDegrees;
    t.maxShiftVoxels = maxShiftVoxels;
    t.spatialSeed = spatialSeed;
    return t;
}

void UncertaintySettings::setAugmentation(const TestTimeAugmentation& t) {
    flips = t.flips();
    flipAxes = t.flipAxes;
    intensityPasses = t.intensity() ? t.intensityPasses : 0;
    intensityStrength = t.intensityStrength;
    intensitySeed = t.intensitySeed;
    spatialPasses = t.spatial() ? t.spatialPasses : 0;
    maxRotationDegrees = t.maxRotationDegrees;
    maxShiftVoxels = t.maxShiftVoxels;
    spatialSeed = t.spatialSeed;
}

void UncertaintyWork::run(const UncertaintySettings& settings, const std::optional<StabilityRequest>& stability) {
    const auto on = m_workspace.segmented("uncertainty");
    if (!on) return;
    std::vector<std::string> paths{on->model->path()};
    paths.insert(paths.end(), settings.extraModels.begin(), settings.extraModels.end());
    // Every fold of an nnU-Net folder is a member, whichever folds the viewer predicts with.
    const NnunetSelection* nnunet = on->model->nnunetSelection();
    NnunetOptions nnunetOptions = nnunet ? nnunet->options : NnunetOptions{};
    if (nnunet) nnunetOptions.folds = nnunet->availableFolds;
    auto instances = m_workspace.instances();
    m_workspace.jobs().submit(
        kUncertaintySlot, "Uncertainty of the ensemble",
        [on = *on, paths, nnunetOptions, settings, stability, instances](JobContext& job) {
            job.progress(0.0f, "loading the members");
            UncertaintyOptions options;
            settings.augmentation().applyTo(options);
            options.mcDropoutPasses = settings.mcDropoutPasses;
            options.mcDropoutSeed = settings.mcDropoutSeed;
            const auto members = loadEnsemble(paths, nnunetOptions, !settings.flips);
            JobContext predicting = job.sub(0.02f, 0.97f);
            auto result = std::make_shared<Result>();
            result->run = ensembleUncertainty(members, *on.study, options, &predicting, stability);
            job.progress(0.97f, "per structure");
            result->settings = settings;
            result->segmentationGeneration = on.generation;
            const Geometry& grid = on.study->geometry;
            if (instances) result->perStructure = instanceUncertainty(*instances, result->run.maps);
            result->certainty = std::make_shared<const Volume>(certaintyOf(result->run.maps));
            result->maps = uncertaintyMaps(result->run, grid, on.generation);
            if (result->run.stability) {
                result->stabilityMaps = stabilityMaps(result->run, stability->method, grid, on.generation);
            }
            // With the study's ground truth: the ensemble's structures as true or false positives.
            result->summary =
                uncertaintySummary(result->run, structuresAgainstTruth(result->run.instances, on.study->groundTruth));
            return std::shared_ptr<const Result>(result);
        },
        [this](std::shared_ptr<const Result> result) {
            m_result = std::move(result);
            ++m_revision;
            const UncertaintyRun& run = m_result->run;
            logInfo("uncertainty: {} predictions in {:.1f} s; {} structures", run.passes, run.seconds,
                    run.instances.instances.size());
            for (const std::string& note : run.notes)
                logInfo("  {}", note);
            if (run.stability) {
                logInfo("  {} by each member: mean rank correlation {:.3f}, top-5% overlap {:.3f}",
                        run.target->description, run.stability->meanRankCorrelation, run.stability->meanTopOverlap);
            }
            // Shown at once unless panel A shows something already (the Uncertainty tab shows it then).
            if (!m_comparison.panels().front().result) showMap(0, run.maps.memberNames.size() > 1 ? 1 : 0);
            if (onFinished) onFinished();
        },
        [this](const JobReport& report) {
            m_workspace.messages().jobEnded(report);
            if (report.status != JobStatus::Succeeded && onFailed) onFailed();
        });
}

bool UncertaintyWork::running() const {
    return m_workspace.jobs().busy(kUncertaintySlot);
}

std::shared_ptr<const UncertaintyWork::Result> UncertaintyWork::result() const {
    return m_result && m_result->segmentationGeneration == m_workspace.segmentationGeneration() ? m_result : nullptr;
}

void UncertaintyWork::showMap(int panel, int item) {
    const auto r = result();
    if (!r || item < 0 || item >= int(r->maps->items.size())) return;
    m_comparison.show(panel, r->maps);
    m_workspace.viewer().displays[size_t(panel)].index = item;
}

void UncertaintyWork::showStability(int panel, int item) {
    const auto r = result();
    if (!r || !r->stabilityMaps || item < 0 || item >= int(r->stabilityMaps->items.size())) return;
    m_comparison.show(panel, r->stabilityMaps);
    m_workspace.viewer().displays[size_t(panel)].index = item;
}

void UncertaintyWork::save(const std::string& folder) {
    const auto r = result();
    if (!r || !m_workspace.study()) {
        m_workspace.messages().error("no uncertainty to save: run it first");
        return;
    }
    auto study = m_workspace.study()->study;
    std::vector<std::string> inputs = m_workspace.inputPaths();
    inputs.insert(inputs.end(), r->settings.extraModels.begin(), r->settings.extraModels.end());
    m_workspace.jobs().submit(
        kFilesSlot, "Saving the uncertainty",
        [r, study, folder, inputs](JobContext& job) {
            job.progress(0.1f, "writing maps and tables");
            writeUncertainty(r->run, study->groundTruth, folder, inputs);
        },
        [folder] { logInfo("saved the uncertainty in {}", folder); });
}

} // namespace segxai::app
