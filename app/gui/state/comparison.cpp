#include "app/gui/state/comparison.h"

#include "engine/core/error.h"
#include "engine/core/log.h"
#include "engine/core/resample.h"
#include "engine/explain/map_statistics.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image_io.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fmt/format.h>

namespace segxai::app {
namespace {

JobSlot explainSlot(int panel) {
    return JobSlot("explain:" + std::to_string(panel));
}
JobSlot panelModelSlot(int panel) {
    return JobSlot("model:" + std::to_string(panel));
}
const JobSlot kDifferenceSlot{"difference"};

// The target on a map's grid (nearest neighbour), for the share of attribution inside it.
std::vector<uint8_t> targetOnGrid(const Target& target, const Geometry& studyGrid, const Geometry& grid) {
    if (studyGrid.sameGrid(grid)) return target.mask;
    LabelVolume mask(studyGrid, "target");
    std::copy(target.mask.begin(), target.mask.end(), mask.labels.begin());
    const LabelVolume onGrid = resampleNearest(mask, grid);
    return std::vector<uint8_t>(onGrid.labels.begin(), onGrid.labels.end());
}

MapFigures figuresOf(const ExplanationMap& map, const std::vector<uint8_t>& target) {
    MapFigures f;
    std::vector<float> magnitudes, negatives;
    double total = 0.0;
    for (float v : map.values.voxels) {
        if (v != 0.0f) magnitudes.push_back(std::abs(v));
        if (v < 0.0f) negatives.push_back(-v);
        total += std::abs(v);
    }
    const ValueRange robust = percentileRange(magnitudes, 0.0, 99.5);
    f.extent = robust.max > 0.0f ? robust.max : 1.0f;
    const ValueRange robustNegative = percentileRange(negatives, 0.0, 99.5);
    f.negativeExtent = robustNegative.max > 0.0f ? robustNegative.max : f.extent;
    const ValueRange range = finiteRange(map.values.voxels);
    f.minimum = range.min;
    f.maximum = range.max;
    f.absoluteSum = total;
    if (total > 0.0) {
        double inside = 0.0;
        for (size_t n = 0; n < map.values.voxels.size(); ++n) {
            if (target[n]) inside += std::abs(map.values.voxels[n]);
        }
        f.shareInTarget = inside / total;
    }
    return f;
}

} // namespace

std::shared_ptr<ExplanationSet> makeExplanationSet(std::vector<Explanation> items, const Target& target,
                                                   const Geometry& studyGrid, MapSource source,
                                                   uint64_t segmentationGeneration) {
    auto set = std::make_shared<ExplanationSet>();
    set->items = std::move(items);
    set->targetDescription = target.description;
    set->source = std::move(source);
    set->segmentationGeneration = segmentationGeneration;
    if (set->items.empty() || set->items.front().maps.empty()) return set;
    const auto onGrid = targetOnGrid(target, studyGrid, set->items.front().maps.front().values.geometry);
    for (const Explanation& e : set->items) {
        std::vector<MapFigures> figures;
        for (const ExplanationMap& map : e.maps)
            figures.push_back(figuresOf(map, onGrid));
        set->figures.push_back(std::move(figures));
    }
    return set;
}

std::string itemTitle(const ExplanationSet& set, size_t item) {
    if (item < set.titles.size()) return set.titles[item];
    return item < set.items.size() ? methodTitle(set.items[item].method) : "";
}

std::optional<ShownMap> shownMap(const ExplanationSet& set, const MapDisplay& display) {
    if (set.items.empty()) return std::nullopt;
    const size_t item = size_t(std::clamp(display.index, 0, int(set.items.size()) - 1));
    const Explanation& e = set.items[item];
    if (e.maps.empty() || set.figures.size() <= item) return std::nullopt;
    const size_t channel = size_t(std::clamp(display.map, 0, int(e.maps.size()) - 1));
    return ShownMap{e, e.maps[channel], set.figures[item][channel], item, channel};
}

std::optional<ShownMap> Comparison::shownMap(int panel) const {
    if (panel < 0 || panel >= int(m_panels.size()) || !m_panels[size_t(panel)].result) return std::nullopt;
    return app::shownMap(*m_panels[size_t(panel)].result, m_workspace.viewer().displays[size_t(panel)]);
}

void Comparison::explain(int panel, const TargetSpec& targetSpec) {
    const auto on = m_workspace.segmented("explaining");
    if (!on || panel < 0 || panel >= int(m_panels.size())) return;
    Panel& p = m_panels[size_t(panel)];
    if (!p.modelPath.empty() && !p.ownModel) {
        p.pendingTarget = targetSpec; // explained when its model arrives
        logInfo("panel {}: explained once its model has loaded", char('A' + panel));
        return;
    }
    Workspace::Segmented inputs = *on;
    if (p.ownModel) inputs.model = p.ownModel->model;
    m_workspace.jobs().submit(
        explainSlot(panel), fmt::format("Explaining (panel {})", char('A' + panel)),
        [on = std::move(inputs), methods = p.methods, parameters = p.parameters, targetSpec](JobContext& job) {
            const auto start = std::chrono::steady_clock::now();
            const Target target = resolveTarget(targetSpec, *on.study, *on.segmentation, parameters.instances);
            auto set = makeExplanationSet(
                segxai::explain(*on.model, *on.study, target, methods, parameters, &job, &on.segmentation->labels),
                target, on.study->geometry, MapSource{MapSource::Kind::Explanation, targetSpec}, on.generation);
            set->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            return std::shared_ptr<const ExplanationSet>(set);
        },
        [this, panel](std::shared_ptr<const ExplanationSet> set) {
            if (panel < int(m_panels.size())) adopt(panel, std::move(set));
        });
}

void Comparison::explainAll(const TargetSpec& target) {
    for (int panel = 0; panel < int(m_panels.size()); ++panel)
        explain(panel, target);
}

bool Comparison::explaining() const {
    for (int panel = 0; panel < kMaxPanels; ++panel) {
        if (m_workspace.jobs().busy(explainSlot(panel))) return true;
    }
    return false;
}

void Comparison::setPanelCount(int count) {
    count = std::clamp(count, 1, kMaxPanels);
    while (int(m_panels.size()) < count) {
        Panel panel = m_panels.back();
        panel.result.reset();
        ++panel.generation;
        m_panels.push_back(std::move(panel));
    }
    m_panels.resize(size_t(count));
}

void Comparison::setPanelModel(int panel, const std::string& path) {
    if (panel < 0 || panel >= int(m_panels.size())) return;
    Panel& p = m_panels[size_t(panel)];
    p.modelPath = path;
    p.ownModel.reset();
    p.result.reset();
    ++p.generation;
    if (path.empty()) return;
    std::optional<Geometry> grid;
    if (m_workspace.study()) grid = m_workspace.study()->study->geometry;
    m_workspace.jobs().submit(
        panelModelSlot(panel), "Loading a panel's model",
        [path, grid](JobContext& job) {
            job.progress(0.1f, "reading TorchScript");
            return catalogue(Model::load(path), grid ? &*grid : nullptr, {});
        },
        [this, panel](std::shared_ptr<const LoadedModel> model) {
            if (panel >= int(m_panels.size())) return;
            Panel& p = m_panels[size_t(panel)];
            p.ownModel = std::move(model);
            logInfo("panel {} model: {}", char('A' + panel), p.ownModel->model->summary());
            if (p.pendingTarget) explain(panel, *std::exchange(p.pendingTarget, std::nullopt));
        });
}

void Comparison::show(int panel, std::shared_ptr<const ExplanationSet> set) {
    if (m_panels.size() <= size_t(panel)) setPanelCount(panel + 1);
    adopt(panel, std::move(set));
}

void Comparison::adopt(int panel, std::shared_ptr<const ExplanationSet> set) {
    Panel& p = m_panels[size_t(panel)];
    p.result = std::move(set);
    ++p.generation;
    if (p.result->source.kind == MapSource::Kind::Explanation || p.result->source.kind == MapSource::Kind::Lesion ||
        p.result->source.kind == MapSource::Kind::AggregationCell) {
        for (const Explanation& e : p.result->items) {
            logInfo("panel {}: {}: {}, S = {:.5g} ({}), {:.2f} s", char('A' + panel), methodTitle(e.method),
                    e.targetDescription, e.score, e.scoreOn, e.seconds);
            for (const auto& w : e.warnings)
                logWarning("{}", w);
        }
    }
    if (std::exchange(m_keepDisplay[size_t(panel)], false)) return; // as the session showed it
    ViewerState& viewer = m_workspace.viewer();
    MapDisplay& display = viewer.displays[size_t(panel)];
    display.index = 0;
    display.show = true;
    // Labels as outlines, so the map shows beneath them; and the input channel that carries
    // most of the attribution first.
    viewer.segmentationOutline = true;
    display.map = 0;
    if (p.result->figures.empty()) return;
    const auto& figures = p.result->figures.front();
    for (size_t m = 0; m < figures.size(); ++m) {
        if (figures[m].absoluteSum > figures[size_t(display.map)].absoluteSum) display.map = int(m);
    }
}

void Comparison::update() {
    for (Panel& p : m_panels) {
        if (p.result && p.result->segmentationGeneration != m_workspace.segmentationGeneration()) {
            p.result.reset();
            ++p.generation;
        }
    }
    for (int panel = 0; panel < kMaxPanels; ++panel) {
        const auto map = shownMap(panel);
        Shown now;
        if (map) now = Shown{m_panels[size_t(panel)].result.get(), map->item, map->channel};
        Shown& before = m_shown[size_t(panel)];
        if (now.set != before.set || now.item != before.item || now.channel != before.channel) {
            now.generation = before.generation + 1;
            before = now;
        }
    }
    updateDifference();
    updateCorrelations();
}

std::string Comparison::targetLabel(int panel) const {
    if (panel < 0 || panel >= int(m_panels.size()) || !m_panels[size_t(panel)].result) return "";
    const ExplanationSet& set = *m_panels[size_t(panel)].result;
    const MapSource& source = set.source;
    const Segmentation* segmentation = m_workspace.segmentation().get();
    auto className = [&](int c) {
        return segmentation && c >= 0 && c < int(segmentation->classNames.size()) ? segmentation->classNames[size_t(c)]
                                                                                  : std::to_string(c);
    };
    switch (source.kind) {
    case MapSource::Kind::Lesion:
        return fmt::format("lesion {}", source.lesion);
    case MapSource::Kind::AggregationCell: {
        const int cls = set.items.empty() ? 0 : set.items.front().classIndex;
        return source.segment < 0 ? "class " + className(cls) : className(cls) + " in " + className(source.segment);
    }
    case MapSource::Kind::Uncertainty:
    case MapSource::Kind::Stability:
        return set.targetDescription;
    case MapSource::Kind::Explanation:
        break;
    }
    const TargetSpec& t = source.target;
    const std::string cls = set.items.empty() ? t.classText : className(set.items.front().classIndex);
    switch (t.kind) {
    case TargetSpec::Kind::Instance: {
        const std::string name = m_workspace.structureName(m_workspace.instanceAt(t.voxel));
        return name.empty() ? cls + " structure" : name;
    }
    case TargetSpec::Kind::GroundTruthInstance:
        return "missed " + cls;
    case TargetSpec::Kind::Box:
        return "box";
    case TargetSpec::Kind::Voxel:
        return fmt::format("voxel {},{},{}", t.voxel[0], t.voxel[1], t.voxel[2]);
    case TargetSpec::Kind::Mask:
        return "mask";
    case TargetSpec::Kind::Channel:
        return "channel " + cls;
    case TargetSpec::Kind::ClassRegion:
        break;
    }
    return "class " + cls;
}

std::string Comparison::fileStem(int panel) const {
    const auto shown = shownMap(panel);
    if (!shown) return std::string(1, char('A' + panel));
    const ExplanationSet& set = *m_panels[size_t(panel)].result;
    const std::string what = set.titles.empty() ? methodId(shown->explanation.method) : itemTitle(set, shown->item);
    std::string stem = fmt::format("{}_{}_{}", char('A' + panel), what, targetLabel(panel));
    if (!shown->map.channel.empty()) stem += "_" + shown->map.channel;
    std::string name;
    for (char c : stem) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+') name += c;
        if (c == ' ' && !name.empty() && name.back() != '-') name += '-';
    }
    return name;
}

bool Comparison::explainsAnotherStructure(int panel) const {
    const int32_t picked = m_workspace.viewer().selectedInstance;
    if (picked == 0 || panel < 0 || panel >= int(m_panels.size()) || !m_panels[size_t(panel)].result) return false;
    const ExplanationSet& set = *m_panels[size_t(panel)].result;
    if (set.source.kind == MapSource::Kind::Explanation && set.source.target.kind == TargetSpec::Kind::Instance) {
        return m_workspace.instanceAt(set.source.target.voxel) != picked;
    }
    return false;
}

void Comparison::exportShownMap(int panel, const std::string& path) {
    const auto shown = shownMap(panel);
    if (!shown || !m_workspace.study()) {
        m_workspace.messages().error(fmt::format("panel {} has no explanation to export", char('A' + panel)));
        return;
    }
    const std::vector<std::string> inputs = m_workspace.inputPaths();
    try {
        checkOutputFile(path, inputs);
    } catch (const Error& e) {
        m_workspace.messages().error(e.what());
        return;
    }
    auto set = m_panels[size_t(panel)].result;
    auto study = m_workspace.study()->study;
    const size_t item = shown->item, channel = shown->channel;
    m_workspace.jobs().submit(
        JobSlot("export map:" + path), "Saving a map",
        [set, study, item, channel, path, inputs](JobContext&) {
            writeVolume(inStudyGrid(set->items[item].maps[channel], study->geometry), path, inputs);
        },
        [path, title = itemTitle(*set, item), name = set->items[item].maps[channel].channel] {
            logInfo("saved {} ({}{})", path, title, name.empty() ? "" : ", " + name);
        });
}

std::optional<double> Comparison::correlationWithA(int panel) const {
    const Correlation& c = m_correlations.at(size_t(panel));
    if (c.generationA != shownGeneration(0) || c.generation != shownGeneration(panel)) return std::nullopt;
    return c.value;
}

void Comparison::updateCorrelations() {
    const auto a = shownMap(0);
    for (int panel = 1; panel < int(m_panels.size()); ++panel) {
        Correlation& c = m_correlations[size_t(panel)];
        const auto map = shownMap(panel);
        if (!a || !map || (c.generationA == shownGeneration(0) && c.generation == shownGeneration(panel))) continue;
        c = Correlation{shownGeneration(0), shownGeneration(panel), std::nullopt};
        auto setA = m_panels[0].result, set = m_panels[size_t(panel)].result;
        const size_t itemA = a->item, channelA = a->channel, item = map->item, channel = map->channel;
        const Correlation asked = c;
        m_workspace.jobs().submit(
            JobSlot("correlation:" + std::to_string(panel)), "Correlation with panel A",
            [setA, set, itemA, channelA, item, channel](JobContext&) {
                return pearsonCorrelation(setA->items[itemA].maps[channelA].values,
                                          set->items[item].maps[channel].values);
            },
            [this, panel, asked](double r) {
                Correlation& c = m_correlations[size_t(panel)];
                if (c.generationA == asked.generationA && c.generation == asked.generation) c.value = r;
            });
    }
}

void Comparison::updateDifference() {
    const ViewerState& viewer = m_workspace.viewer();
    const auto a = shownMap(0), b = m_panels.size() >= 2 ? shownMap(1) : std::nullopt;
    if (!viewer.showDifference || !a || !b) {
        if (m_difference) {
            m_difference.reset();
            ++m_differenceGeneration;
        }
        m_differenceInputs.reset();
        return;
    }
    const DifferenceInputs inputs{
        m_panels[0].generation, m_panels[1].generation, a->item, a->channel, b->item, b->channel,
        viewer.rankDifference};
    if (m_differenceInputs == inputs) return;
    m_differenceInputs = inputs;
    auto setA = m_panels[0].result, setB = m_panels[1].result;
    m_workspace.jobs().submit(
        kDifferenceSlot, "Difference of panels A and B",
        [setA, setB, inputs](JobContext&) {
            const Explanation& ea = setA->items[inputs.itemA];
            const Explanation& eb = setB->items[inputs.itemB];
            auto d = std::make_shared<DifferenceView>();
            d->values = mapDifference(ea.maps[inputs.channelA].values, eb.maps[inputs.channelB].values, inputs.ranks);
            float extent = 0.0f;
            for (float v : d->values.voxels)
                extent = std::max(extent, std::abs(v));
            d->extent = extent > 0.0f ? extent : 1.0f;
            d->description = fmt::format("{} - {}{}", itemTitle(*setA, inputs.itemA), itemTitle(*setB, inputs.itemB),
                                         inputs.ranks ? " (ranks)" : " (normalised)");
            return std::shared_ptr<const DifferenceView>(d);
        },
        [this](std::shared_ptr<const DifferenceView> difference) {
            m_difference = std::move(difference);
            ++m_differenceGeneration;
        });
}

} // namespace segxai::app
