#include "app/gui/state/lesion_work.h"

#include "engine/core/log.h"
#include "engine/explain/explanation.h"
#include "engine/explain/map_statistics.h"

#include <algorithm>

namespace segxai::app {
namespace {

const JobSlot kLesionSlot{"lesions"};
const JobSlot kPaintSlot{"synthetic lesion"};
const JobSlot kSweepSlot{"synthetic sweep"};
const JobSlot kFilesSlot{"lesion files"};
const JobSlot kUncertaintySlot{"lesion uncertainty"};

std::shared_ptr<const LoadedStudy> viewable(std::shared_ptr<const Study> study, const LoadedStudy& like) {
    auto loaded = std::make_shared<LoadedStudy>();
    for (const Volume& channel : study->channels) {
        loaded->fullRanges.push_back(finiteRange(channel.voxels));
        loaded->displayRanges.push_back(percentileRange(channel.voxels, 0.5, 99.5));
    }
    if (study->groundTruth && !study->groundTruth->labels.empty()) {
        loaded->maxLabel = *std::max_element(study->groundTruth->labels.begin(), study->groundTruth->labels.end());
    }
    loaded->channelNames = like.channelNames;
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

// The channel with the largest share of a lesion's SmoothGrad inside and around it.
int mostAttributedChannel(const LesionAnalysis& a, int id) {
    int best = 0;
    double share = -1.0;
    for (size_t c = 0; c < a.channels.size(); ++c) {
        for (const auto& s : a.summaries) {
            if (s.lesionId == id && s.method == "smoothgrad" && s.channel == a.channels[c] && s.channelShare > share) {
                share = s.channelShare;
                best = int(c);
            }
        }
    }
    return best;
}

} // namespace

void LesionWork::analyse(const LesionAnalysisOptions& options) {
    const auto on = m_workspace.segmented("the lesion analysis");
    if (!on) return;
    const uint64_t generation = on->generation;
    m_workspace.jobs().submit(
        kLesionSlot, "Analysing lesions",
        [on = *on, options](JobContext& job) {
            return std::make_shared<const LesionAnalysis>(
                segxai::analyseLesions(*on.model, *on.study, *on.segmentation, options, &job));
        },
        [this, generation](std::shared_ptr<const LesionAnalysis> analysis) {
            m_analysis = std::move(analysis);
            m_analysisSegmentation = generation;
            ++m_generation;
            m_shown = 0;
            logInfo("{} lesions analysed in {:.1f} s", m_analysis->lesions.lesions.size(), m_analysis->seconds);
            for (const Finding& f : m_analysis->findings) {
                logInfo("  {}: {} ({})", f.name,
                        !f.holds   ? "not assessable"
                        : *f.holds ? "holds"
                                   : "does not hold",
                        f.evidence);
            }
            if (onAnalysed) onAnalysed();
        },
        [this](const JobReport& report) {
            m_workspace.messages().jobEnded(report);
            if (onAnalysisFailed) onAnalysisFailed();
        });
}

bool LesionWork::analysing() const {
    return m_workspace.jobs().busy(kLesionSlot);
}
bool LesionWork::saving() const {
    return m_workspace.jobs().busy(kFilesSlot);
}
bool LesionWork::painting() const {
    return m_workspace.jobs().busy(kPaintSlot);
}
bool LesionWork::sweeping() const {
    return m_workspace.jobs().busy(kSweepSlot);
}

std::shared_ptr<const LesionAnalysis> LesionWork::analysis() const {
    return m_analysisSegmentation == m_workspace.segmentationGeneration() ? m_analysis : nullptr;
}

void LesionWork::show(int id, int method, int map) {
    const auto a = analysis();
    if (!a || id < 1 || id > int(a->lesions.lesions.size()) || !m_workspace.study()) return;
    const Lesion& lesion = a->lesions.lesion(id);
    m_shown = id;
    ViewerState& viewer = m_workspace.viewer();
    viewer.crosshair = lesion.representative;
    // Its structure picked (a missed lesion has none: its ground truth shows it).
    viewer.selectedInstance = m_workspace.instanceAt(lesion.representative);
    if (viewer.selectedInstance != 0) viewer.target.kind = TargetSpec::Kind::Instance;
    std::vector<Explanation> items = lesionExplanations(*a, id);
    if (items.empty()) return;
    MapSource source;
    source.kind = MapSource::Kind::Lesion;
    source.lesion = id;
    auto set = makeExplanationSet(std::move(items), lesionTarget(a->lesions, id), m_workspace.study()->study->geometry,
                                  source, m_workspace.segmentationGeneration());
    const int count = int(set->items.size());
    m_comparison.show(0, std::move(set));
    MapDisplay& display = viewer.displays[0];
    display.index = method >= 0 ? std::min(method, count - 1) : 0;
    display.map = map >= 0 ? map : mostAttributedChannel(*a, id);
    display.map = m_comparison.shownMap(0) ? int(m_comparison.shownMap(0)->channel) : 0;
}

std::shared_ptr<const LesionUncertainty> LesionWork::uncertainty() const {
    const auto a = analysis();
    return a && a.get() == m_uncertaintyAnalysis && m_uncertaintyEnsemble == m_ensemble.result() ? m_uncertainty
                                                                                                 : nullptr;
}

void LesionWork::update() {
    const auto a = analysis();
    const auto ensemble = m_ensemble.result();
    if (!a || !ensemble || (a.get() == m_uncertaintyAnalysis && ensemble == m_uncertaintyEnsemble) ||
        m_workspace.jobs().busy(kUncertaintySlot))
        return;
    m_uncertaintyAnalysis = a.get();
    m_uncertaintyEnsemble = ensemble;
    m_uncertainty.reset();
    m_workspace.jobs().submit(
        kUncertaintySlot, "Each lesion's uncertainty",
        [a, ensemble](JobContext&) {
            return std::make_shared<const LesionUncertainty>(lesionUncertainty(a->lesions, ensemble->run.maps));
        },
        [this, a, ensemble](std::shared_ptr<const LesionUncertainty> u) {
            if (a.get() == m_uncertaintyAnalysis && ensemble == m_uncertaintyEnsemble) m_uncertainty = std::move(u);
        });
}

void LesionWork::save(const std::string& folder) {
    const auto analysis = this->analysis();
    if (!analysis || !m_workspace.study()) {
        m_workspace.messages().error("no lesion analysis to save");
        return;
    }
    auto study = m_workspace.study()->study;
    const std::vector<std::string> inputs = m_workspace.inputPaths();
    m_workspace.jobs().submit(
        kFilesSlot, "Saving the lesion analysis",
        [analysis, uncertainty = uncertainty(), study, folder, inputs](JobContext& job) {
            job.progress(0.1f, "writing tables and maps");
            if (!uncertainty) {
                writeLesionAnalysis(*analysis, *study, folder, true, inputs);
                return;
            }
            LesionAnalysis withUncertainty = *analysis;
            withUncertainty.uncertainty = *uncertainty;
            writeLesionAnalysis(withUncertainty, *study, folder, true, inputs);
        },
        [folder] { logInfo("saved the lesion analysis in {}", folder); });
}

std::optional<SyntheticLesion> LesionWork::painted() const {
    if (m_painted && m_paintedStudy == m_workspace.studyGeneration()) return m_painted;
    return std::nullopt;
}

void LesionWork::paint(const SyntheticLesion& lesion) {
    if (!m_workspace.study()) return;
    auto base = painted() ? m_unpainted : m_workspace.study();
    m_workspace.jobs().submit(
        kPaintSlot, "Painting a synthetic lesion",
        [base, lesion](JobContext& job) {
            job.progress(0.2f, "painting");
            return viewable(std::make_shared<const Study>(withSyntheticLesion(*base->study, lesion)), *base);
        },
        [this, base, lesion](std::shared_ptr<const LoadedStudy> painted) {
            m_unpainted = base;
            m_painted = lesion;
            m_workspace.replacePixels(std::move(painted));
            m_paintedStudy = m_workspace.studyGeneration();
            logInfo("synthetic lesion painted in: radii {:.1f} x {:.1f} x {:.1f} mm; segmenting again",
                    lesion.radiiMm.x, lesion.radiiMm.y, lesion.radiiMm.z);
        });
}

void LesionWork::removePainted() {
    if (!painted()) return;
    m_painted.reset();
    m_workspace.replacePixels(std::exchange(m_unpainted, {}));
    logInfo("synthetic lesion removed");
}

void LesionWork::sweep(const SyntheticLesion& lesion, std::vector<double> radiiMm, std::vector<double> contrastScales,
                       int classIndex, double threshold) {
    if (!m_workspace.study() || !m_workspace.model()) {
        m_workspace.messages().error("the sweep needs a study and a model");
        return;
    }
    auto base = (painted() ? m_unpainted : m_workspace.study())->study;
    auto model = m_workspace.model()->model;
    m_workspace.jobs().submit(
        kSweepSlot, "Synthetic lesion sweep",
        [=](JobContext& job) {
            return std::make_shared<const std::vector<SyntheticDetection>>(
                syntheticSweep(*model, *base, lesion, radiiMm, contrastScales, classIndex, threshold, &job));
        },
        [this](std::shared_ptr<const std::vector<SyntheticDetection>> result) { m_sweep = std::move(result); });
}

} // namespace segxai::app
