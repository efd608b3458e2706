#include "app/gui/state/model_comparison_work.h"

#include "engine/core/log.h"
#include "engine/explain/target.h"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <tuple>

namespace segxai::app {
namespace {

const JobSlot kCompareSlot{"compare models"};
const JobSlot kAgreementSlot{"explanation agreement"};

// Where the reference and model `a.model` label class `a.className` differently: the voxel
// nearest the middle of those voxels, and their count.
std::pair<Index3, int64_t> disagreementOf(const ModelComparison& c, const ClassAgreement& a) {
    auto indexOf = [&](size_t model) {
        const auto& names = c.classNames[model];
        for (size_t n = 0; n < names.size(); ++n) {
            if (names[n] == a.className) return int(n);
        }
        return -1;
    };
    const int reference = indexOf(0), other = indexOf(a.model);
    const LabelVolume& r = c.labels[0];
    const LabelVolume& m = c.labels[a.model];
    const Geometry& g = r.geometry;
    auto differs = [&](size_t v) { return (int(r.labels[v]) == reference) != (int(m.labels[v]) == other); };
    glm::dvec3 sum(0.0);
    int64_t count = 0;
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                if (!differs(g.linearIndex(i, j, k))) continue;
                sum += glm::dvec3(double(i), double(j), double(k));
                ++count;
            }
    if (count == 0) return {Index3{g.dims[0] / 2, g.dims[1] / 2, g.dims[2] / 2}, 0};
    const glm::dvec3 middle = sum / double(count);
    Index3 best{0, 0, 0};
    double bestDistance = std::numeric_limits<double>::max();
    for (int64_t k = 0; k < g.dims[2]; ++k)
        for (int64_t j = 0; j < g.dims[1]; ++j)
            for (int64_t i = 0; i < g.dims[0]; ++i) {
                if (!differs(g.linearIndex(i, j, k))) continue;
                const glm::dvec3 d = glm::dvec3(double(i), double(j), double(k)) - middle;
                if (glm::dot(d, d) < bestDistance) {
                    bestDistance = glm::dot(d, d);
                    best = {i, j, k};
                }
            }
    return {best, count};
}

std::shared_ptr<const ExplanationSet> disagreementSet(const ModelComparison& c, uint64_t generation) {
    Explanation e;
    e.maps.push_back(ExplanationMap{"", c.disagreement, false});
    e.targetDescription = fmt::format("{} models", c.names.size());
    Target everywhere;
    everywhere.description = e.targetDescription;
    everywhere.mask.resize(c.disagreement.voxels.size());
    for (size_t n = 0; n < everywhere.mask.size(); ++n)
        everywhere.mask[n] = c.disagreement.voxels[n] > 0.0f;
    auto set = makeExplanationSet({e}, everywhere, c.disagreement.geometry, sourceOf(MapSource::Kind::Uncertainty),
                                  generation);
    set->titles = {fmt::format("disagreement of {} models", c.names.size())};
    set->figures.front().front().extent = 1.0f; // every other model labels differently
    set->figures.front().front().extentName = "1, every model";
    return set;
}

} // namespace

void ModelComparisonWork::compare(const std::vector<std::string>& otherModels) {
    if (otherModels.empty()) {
        m_workspace.messages().error("compare: choose at least one other model");
        return;
    }
    const auto on = m_workspace.segmented("comparing models");
    if (!on) return;
    m_workspace.jobs().submit(
        kCompareSlot, "Comparing models",
        [on = *on, otherModels](JobContext& job) {
            job.progress(0.0f, "loading the models");
            std::vector<EnsembleMember> models{
                {on.model, std::filesystem::path(on.model->path()).filename().string() + " (open)"}};
            for (const std::string& path : otherModels)
                models.push_back({Model::load(path), std::filesystem::path(path).filename().string()});
            JobContext segmenting = job.sub(0.02f, 0.95f);
            auto result = std::make_shared<Result>();
            result->comparison = compareModels(models, *on.study, std::nullopt, &segmenting);
            result->otherPaths = otherModels;
            result->segmentationGeneration = on.generation;
            job.progress(0.95f, "finding each class's disagreement");
            for (const ClassAgreement& a : result->comparison.classes) {
                const auto [voxel, count] = disagreementOf(result->comparison, a);
                result->disagreementVoxel.push_back(voxel);
                result->disagreementVoxels.push_back(count);
            }
            result->disagreementMap = disagreementSet(result->comparison, on.generation);
            return std::shared_ptr<const Result>(result);
        },
        [this](std::shared_ptr<const Result> result) {
            m_result = std::move(result);
            const ModelComparison& c = m_result->comparison;
            logInfo("{} models compared in {:.1f} s: {:.4f} of voxels labelled alike", c.names.size(), c.seconds,
                    c.voxelAgreement);
            if (!c.classes.empty()) {
                const ClassAgreement& worst = c.classes.front();
                logInfo("  least agreement: {} (Dice {:.3f} against {})", worst.className, worst.dice,
                        c.names[worst.model]);
            }
            for (const std::string& name : c.onlyInReference)
                logInfo("  only the open model predicts {}", name);
            for (const std::string& name : c.onlyInOthers)
                logInfo("  only another model predicts {}", name);
            m_comparison.show(0, m_result->disagreementMap);
        },
        [this](const JobReport& report) { m_workspace.messages().jobEnded(report); });
}

bool ModelComparisonWork::comparing() const {
    return m_workspace.jobs().busy(kCompareSlot);
}

std::shared_ptr<const ModelComparisonWork::Result> ModelComparisonWork::result() const {
    return m_result && m_result->segmentationGeneration == m_workspace.segmentationGeneration() ? m_result : nullptr;
}

void ModelComparisonWork::showRow(size_t row) {
    const auto r = result();
    if (!r || row >= r->disagreementVoxel.size()) return;
    m_workspace.viewer().crosshair = r->disagreementVoxel[row];
    m_workspace.pickAtCrosshair();
    if (!m_comparison.panels().front().result ||
        m_comparison.panels().front().result.get() != r->disagreementMap.get()) {
        m_comparison.show(0, r->disagreementMap);
    }
}

void ModelComparisonWork::explainSideBySide(size_t model, const TargetSpec& target) {
    const auto r = result();
    if (!r || model == 0 || model > r->otherPaths.size()) return;
    m_comparison.setPanelCount(std::max<int>(2, int(m_comparison.panels().size())));
    m_comparison.setPanelModel(0, "");
    m_comparison.panel(1).methods = m_comparison.panel(0).methods;
    m_comparison.panel(1).parameters = m_comparison.panel(0).parameters;
    m_comparison.setPanelModel(1, r->otherPaths[model - 1]);
    m_comparison.explain(0, target);
    m_comparison.explain(1, target);
    ViewerState& viewer = m_workspace.viewer();
    viewer.layout = Layout::Compare;
    viewer.showDifference = true;
}

} // namespace segxai::app

namespace segxai::app {

std::shared_ptr<const ModelComparisonWork::Agreement> ModelComparisonWork::agreement() const {
    const auto& panels = m_comparison.panels();
    if (!m_agreement || panels.size() < 2) return nullptr;
    return m_agreement->generationA == panels[0].generation && m_agreement->generationB == panels[1].generation
               ? m_agreement
               : nullptr;
}

void ModelComparisonWork::update() {
    const auto& panels = m_comparison.panels();
    if (panels.size() < 2 || !panels[0].result || !panels[1].result || panels[1].modelPath.empty()) return;
    const auto a = panels[0].result, b = panels[1].result;
    if (a->source.kind != MapSource::Kind::Explanation || b->source.kind != MapSource::Kind::Explanation ||
        a->source.target.text != b->source.target.text || a->items.empty() || b->items.empty())
        return;
    const std::pair<uint64_t, uint64_t> generations{panels[0].generation, panels[1].generation};
    if (generations == m_agreementAsked) return;
    const auto on = m_workspace.segmented("the explanations' agreement");
    if (!on) return;
    m_agreementAsked = generations;
    m_workspace.jobs().submit(
        kAgreementSlot, "Agreement of panels A and B",
        [a, b, on = *on, generations](JobContext&) {
            auto result = std::make_shared<Agreement>();
            const Geometry& grid = on.study->geometry;
            const Volume mapA = combinedStudyMap(a->items.front(), grid);
            const Volume mapB = combinedStudyMap(b->items.front(), grid);
            const Target target = resolveTarget(a->source.target, *on.study, *on.segmentation);
            result->maps = mapAgreement(mapA, mapB);
            result->insideA = positiveMassInside(mapA, target);
            result->insideB = positiveMassInside(mapB, target);
            result->target = target.description;
            std::tie(result->generationA, result->generationB) = generations;
            return std::shared_ptr<const Agreement>(result);
        },
        [this](std::shared_ptr<const Agreement> agreement) {
            m_agreement = std::move(agreement);
            logInfo("panels A and B: rank correlation {:.3f}, top-5% overlap {:.3f}, inside the target {:.1f}% and "
                    "{:.1f}%",
                    m_agreement->maps.rankCorrelation, m_agreement->maps.topOverlap, 100.0 * m_agreement->insideA,
                    100.0 * m_agreement->insideB);
        });
}

} // namespace segxai::app
