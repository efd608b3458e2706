// The Workspace's lesion-level analysis and synthetic lesions (app/gui/workspace.h).
#include "app/gui/state/workspace.h"

#include "engine/explain/explanation.h"
#include "engine/core/job_runner.h"
#include "engine/core/log.h"

#include <algorithm>
#include <fmt/format.h>

namespace segxai::app {
namespace {

const char* kLesionSlot = "lesions";
const char* kPaintSlot = "synthetic lesion";
const char* kSweepSlot = "synthetic sweep";
const char* kFilesSlot = "lesion files";

std::shared_ptr<const LoadedStudy> viewable(std::shared_ptr<const Study> study) {
    auto loaded = std::make_shared<LoadedStudy>();
    for (const Volume& channel : study->channels) {
        loaded->fullRanges.push_back(finiteRange(channel.voxels));
        loaded->displayRanges.push_back(percentileRange(channel.voxels, 0.5, 99.5));
    }
    if (study->groundTruth && !study->groundTruth->labels.empty()) {
        loaded->maxLabel = *std::max_element(study->groundTruth->labels.begin(), study->groundTruth->labels.end());
    }
    loaded->study = std::move(study);
    return loaded;
}

// A lesion's maps as the explanations panel A shows.
std::vector<Explanation> lesionExplanations(const LesionAnalysis& a, int id) {
    const LesionMaps& m = a.maps.at(size_t(id - 1));
    const Target target = lesionTarget(a.lesions, id);
    std::vector<Explanation> items;
    auto add = [&](Method method, std::vector<ExplanationMap> maps, const char* note) {
        if (maps.empty()) return;
        Explanation e;
        e.method = method;
        e.parameters.samples = a.options.explain.samples;
        e.parameters.noiseFraction = a.options.explain.noiseFraction;
        e.parameters.seed = a.options.explain.seed;
        e.classIndex = target.classIndex;
        e.className = target.className;
        e.targetDescription = target.description;
        e.targetVoxels = target.voxelCount;
        e.score = m.score;
        e.scoreOn = "logits";
        e.maps = std::move(maps);
        if (note[0]) e.notes.push_back(note);
        items.push_back(std::move(e));
    };
    add(Method::SmoothGrad, m.smoothGradMean, "");
    add(Method::SmoothGrad, m.smoothGradMax, "max-magnitude variant");
    if (m.camPlusPlus) add(Method::SegGradCamPlusPlus, {*m.camPlusPlus}, "");
    return items;
}

} // namespace

void Workspace::analyseLesions(const LesionAnalysisOptions& options) {
    if (!m_study || !m_model || !m_segmentation) {
        reportError("the lesion analysis needs a study, a model and its segmentation");
        return;
    }
    auto study = m_study->study;
    auto model = m_model->model;
    auto segmentation = m_segmentation;
    m_jobs.submit(kLesionSlot, "Analysing lesions", [study, model, segmentation, options](JobContext& job) {
        return std::any(std::make_shared<const LesionAnalysis>(segxai::analyseLesions(*model, *study, *segmentation, options, &job)));
    });
}

void Workspace::showLesion(int id, int method, int map) {
    if (!m_lesions || id < 1 || id > int(m_lesions->lesions.lesions.size()) || !m_study) return;
    const Lesion& lesion = m_lesions->lesions.lesion(id);
    m_shownLesion = id;
    m_viewer.crosshair = lesion.representative;
    // Its structure picked (a missed lesion has none: its ground truth shows it).
    m_viewer.selectedInstance = 0;
    if (m_instances) {
        const int32_t instance = m_instances->components[m_study->study->geometry.linearIndex(
            lesion.representative[0], lesion.representative[1], lesion.representative[2])];
        m_viewer.selectedInstance = instance;
    }
    std::vector<Explanation> items = lesionExplanations(*m_lesions, id);
    if (items.empty()) return;
    const Target target = lesionTarget(m_lesions->lesions, id);
    MapSource source;
    source.kind = MapSource::Kind::Lesion;
    source.lesion = id;
    auto set = makeExplanationSet(std::move(items), target, m_study->study->geometry, source);
    if (m_panels.empty()) setPanelCount(1);
    const int count = int(set->items.size());
    adoptExplanations(0, std::move(set));
    MapDisplay& display = m_viewer.displays[0];
    display.index = method >= 0 ? std::min(method, count - 1) : 0;
    if (map >= 0) {
        display.map = map;
    } else {
        // The channel with the largest share of this lesion's SmoothGrad inside and around it.
        double best = -1.0;
        for (size_t c = 0; c < m_lesions->channels.size(); ++c) {
            for (const auto& s : m_lesions->summaries) {
                if (s.lesionId == id && s.method == "smoothgrad" && s.channel == m_lesions->channels[c] && s.channelShare > best) {
                    best = s.channelShare;
                    display.map = int(c);
                }
            }
        }
    }
    const auto& shown = m_panels[0].result->items;
    display.map = std::clamp(display.map, 0, int(shown[size_t(display.index)].maps.size()) - 1);
}

void Workspace::saveLesionAnalysis(const std::string& folder) {
    if (!m_lesions || !m_study) {
        reportError("no lesion analysis to save");
        return;
    }
    auto analysis = m_lesions;
    auto study = m_study->study;
    std::vector<std::string> inputs = m_request.channelPaths;
    if (m_request.groundTruthPath) inputs.push_back(*m_request.groundTruthPath);
    if (m_model) inputs.push_back(m_model->model->path());
    m_jobs.submit(kFilesSlot, "Saving the lesion analysis", [analysis, study, folder, inputs](JobContext& job) {
        job.progress(0.1f, "writing tables and maps");
        writeLesionAnalysis(*analysis, *study, folder, true, inputs);
        return std::any(folder);
    });
}

void Workspace::insertSyntheticLesion(const SyntheticLesion& lesion) {
    if (!m_study) return;
    auto base = m_unpainted ? m_unpainted : m_study;
    m_jobs.submit(kPaintSlot, "Painting a synthetic lesion", [base, lesion](JobContext& job) {
        job.progress(0.2f, "painting");
        auto painted = std::make_shared<const Study>(withSyntheticLesion(*base->study, lesion));
        return std::any(std::make_pair(viewable(painted), lesion));
    });
}

void Workspace::removeSyntheticLesion() {
    if (!m_unpainted) return;
    auto original = std::exchange(m_unpainted, {});
    m_synthetic.reset();
    adoptPixels(std::move(original));
    logInfo("synthetic lesion removed");
}

void Workspace::adoptPixels(std::shared_ptr<const LoadedStudy> loaded) {
    m_study = std::move(loaded);
    ++m_studyGeneration;
    clearSegmentation();
    if (m_model && autoSegment) segment();
}

void Workspace::sweepSyntheticLesion(const SyntheticLesion& lesion, std::vector<double> radiiMm, std::vector<double> contrastScales,
                                     int classIndex, double threshold) {
    if (!m_study || !m_model) {
        reportError("the sweep needs a study and a model");
        return;
    }
    auto base = (m_unpainted ? m_unpainted : m_study)->study;
    auto model = m_model->model;
    m_jobs.submit(kSweepSlot, "Synthetic lesion sweep", [=](JobContext& job) {
        return std::any(std::make_shared<const std::vector<SyntheticDetection>>(
            syntheticSweep(*model, *base, lesion, radiiMm, contrastScales, classIndex, threshold, &job)));
    });
}

bool Workspace::processLesionResult(JobResult& result) {
    const bool lesions = result.slot == kLesionSlot, paint = result.slot == kPaintSlot, sweep = result.slot == kSweepSlot;
    const bool files = result.slot == kFilesSlot;
    if (!lesions && !paint && !sweep && !files) return false;
    if (lesions && result.status != JobStatus::Succeeded) m_restoringLesions = false;
    if (result.status == JobStatus::Failed) {
        reportError(result.error);
    } else if (result.status == JobStatus::Cancelled) {
        logInfo("{} cancelled", result.title);
    } else if (lesions) {
        m_lesions = std::any_cast<std::shared_ptr<const LesionAnalysis>>(result.value);
        ++m_lesionGeneration;
        m_shownLesion = 0;
        logInfo("{} lesions analysed in {:.1f} s", m_lesions->lesions.lesions.size(), m_lesions->seconds);
        for (const Finding& f : m_lesions->findings) {
            logInfo("  {}: {} ({})", f.name, !f.holds ? "not assessable" : *f.holds ? "holds" : "does not hold", f.evidence);
        }
        restoreLesionView();
    } else if (paint) {
        auto [painted, lesion] = std::any_cast<std::pair<std::shared_ptr<const LoadedStudy>, SyntheticLesion>>(result.value);
        if (!m_unpainted) m_unpainted = m_study;
        m_synthetic = lesion;
        adoptPixels(std::move(painted));
        logInfo("synthetic lesion painted in: radii {:.1f} x {:.1f} x {:.1f} mm; segmenting again", lesion.radiiMm.x,
                lesion.radiiMm.y, lesion.radiiMm.z);
    } else if (files) {
        logInfo("saved the lesion analysis in {}", std::any_cast<std::string>(result.value));
    } else {
        m_sweep = std::any_cast<std::shared_ptr<const std::vector<SyntheticDetection>>>(result.value);
    }
    return true;
}

} // namespace segxai::app
