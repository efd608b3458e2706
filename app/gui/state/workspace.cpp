#include "app/gui/state/workspace.h"

#include "app/gui/state/session.h"

#include "engine/demo/demo_data.h"
#include "engine/model/inference.h"
#include "engine/core/log.h"
#include "engine/explain/map_statistics.h"

#include <fmt/format.h>
#include "engine/model/model_input.h"
#include "engine/model/monai_bundle.h"
#include "engine/core/resample.h"
#include "engine/io/study_channels.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <regex>

namespace segxai::app {

namespace {

const char* kLoadSlot = "study";
const char* kModelSlot = "model";
const char* kSegmentSlot = "segment";
const char* kDemoSlot = "demo";
const char* kExplainSlot = "explain";
const char* kDifferenceSlot = "difference";

// The model's input shape (C, X, Y, Z) for a study: its grid, padded to the card's divisor.
std::vector<int64_t> inputShapeFor(const Model& model, const Geometry* studyGrid) {
    const int64_t channels = std::max<int64_t>(1, model.expectedInputChannels());
    if (!studyGrid) return {channels, 64, 64, 64};
    const Geometry grid = modelGridFor(*studyGrid, model.card());
    const int64_t d = std::max<int64_t>(1, model.card().divisibleBy);
    auto padded = [&](int64_t n) { return (n + d - 1) / d * d; };
    if (model.card().slidingWindow) {
        const auto& p = model.card().slidingWindow->patch;
        return {channels, p[0], p[1], p[2]};
    }
    return {channels, padded(grid.dims[0]), padded(grid.dims[1]), padded(grid.dims[2])};
}

std::shared_ptr<const LoadedModel> catalogue(std::shared_ptr<const Model> model, const Geometry* studyGrid,
                                             std::vector<std::string> notes) {
    auto loaded = std::make_shared<LoadedModel>();
    loaded->layerInputShape = inputShapeFor(*model, studyGrid);
    loaded->layers = model->layers(loaded->layerInputShape);
    loaded->model = std::move(model);
    loaded->notes = std::move(notes);
    return loaded;
}

struct SegmentResult {
    std::shared_ptr<const Segmentation> segmentation;
    std::shared_ptr<const InstanceSet> instances;
    std::shared_ptr<const LoadedModel> model; // with the catalogue for this study's shape
};

} // namespace

bool isModelPath(const std::string& path) {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (std::filesystem::is_directory(p, ec)) {
        return std::filesystem::exists(p / "configs" / "metadata.json", ec) ||
               std::filesystem::exists(p / "models" / "model.ts", ec) ||
               std::filesystem::exists(p / "model.pt", ec) || std::filesystem::exists(p / "model.ts", ec);
    }
    const std::string ext = p.extension().string();
    return ext == ".pt" || ext == ".ts" || ext == ".pth" || ext == ".torchscript";
}

bool Workspace::busy(const char* slot) const {
    const std::string prefix(slot);
    for (const auto& job : m_jobs.active()) {
        if (job.slot == prefix || job.slot.rfind(prefix + ":", 0) == 0) return true;
    }
    return false;
}

void Workspace::openDemo(const std::string& cacheFolder, const std::string& modelPath) {
    m_jobs.submit(kDemoSlot, "Preparing the lesion demo", [cacheFolder, modelPath](JobContext& job) {
        job.progress(0.1f, "synthesising the demo study (first run only)");
        const DemoStudyFiles files = ensureDemoStudy(DemoTask::Lesions, cacheFolder + "/lesions");
        StudyRequest request;
        request.channelPaths = files.channels;
        request.groundTruthPath = files.groundTruth;
        return std::any(std::make_pair(request, modelPath));
    });
}

void Workspace::openModel(const std::string& path) {
    std::optional<Geometry> grid;
    if (m_study) grid = m_study->study->geometry;
    m_jobs.submit(kModelSlot, "Loading model", [path, grid](JobContext& job) {
        job.progress(0.1f, "reading TorchScript");
        std::vector<std::string> notes;
        std::error_code ec;
        if (std::filesystem::is_directory(std::filesystem::path(path) / "configs", ec)) notes = readMonaiBundle(path).notes;
        auto model = Model::load(path);
        job.throwIfStopped();
        job.progress(0.5f, "listing layers");
        return std::any(catalogue(std::move(model), grid ? &*grid : nullptr, std::move(notes)));
    });
}

void Workspace::segment() {
    if (!m_study || !m_model) return;
    auto study = m_study->study;
    auto model = m_model;
    m_jobs.submit(kSegmentSlot, "Segmenting", [study, model](JobContext& job) {
        SegmentResult result;
        result.segmentation = std::make_shared<const Segmentation>(segmentStudy(*model->model, *study, &job));
        job.progress(0.95f, "finding structures");
        result.instances = std::make_shared<const InstanceSet>(findInstances(*result.segmentation));
        const auto shape = inputShapeFor(*model->model, &study->geometry);
        result.model = shape == model->layerInputShape ? model : catalogue(model->model, &study->geometry, model->notes);
        return std::any(result);
    });
}

namespace {

std::string panelSlot(int panel) { return std::string(kExplainSlot) + ":" + std::to_string(panel); }

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

std::shared_ptr<ExplanationSet> makeExplanationSet(std::vector<Explanation> items, const Target& target, const Geometry& studyGrid,
                                                   MapSource source) {
    auto set = std::make_shared<ExplanationSet>();
    set->items = std::move(items);
    set->targetDescription = target.description;
    set->source = std::move(source);
    if (set->items.empty() || set->items.front().maps.empty()) return set;
    const auto onGrid = targetOnGrid(target, studyGrid, set->items.front().maps.front().values.geometry);
    for (const Explanation& e : set->items) {
        std::vector<MapFigures> figures;
        for (const ExplanationMap& map : e.maps) figures.push_back(figuresOf(map, onGrid));
        set->figures.push_back(std::move(figures));
    }
    return set;
}

void Workspace::explain(int panel, const TargetSpec& targetSpec) {
    if (!m_study || !m_model || !m_segmentation) {
        reportError("explaining needs a study, a model and its segmentation");
        return;
    }
    if (panel < 0 || panel >= int(m_panels.size())) return;
    Panel& p = m_panels[size_t(panel)];
    if (!p.modelPath.empty() && !p.ownModel) {
        p.pendingTarget = targetSpec; // explained when its model arrives
        logInfo("panel {}: explained once its model has loaded", char('A' + panel));
        return;
    }
    auto study = m_study->study;
    auto model = p.ownModel ? p.ownModel->model : m_model->model;
    auto segmentation = m_segmentation;
    const auto methods = p.methods;
    const auto parameters = p.parameters;
    m_jobs.submit(panelSlot(panel), fmt::format("Explaining (panel {})", char('A' + panel)),
                  [study, model, segmentation, methods, parameters, targetSpec](JobContext& job) {
        const auto start = std::chrono::steady_clock::now();
        const Target target = resolveTarget(targetSpec, *study, *segmentation, parameters.instances);
        auto set = makeExplanationSet(segxai::explain(*model, *study, target, methods, parameters, &job, &segmentation->labels), target,
                                      study->geometry, MapSource{MapSource::Kind::Explanation, targetSpec});
        set->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return std::any(std::shared_ptr<const ExplanationSet>(set));
    });
}

void Workspace::updateDifference() {
    const bool possible = m_viewer.showDifference && m_panels.size() >= 2 && m_panels[0].result && m_panels[1].result;
    if (!possible) {
        if (m_difference) {
            m_difference.reset();
            ++m_differenceGeneration;
        }
        m_differenceKey.clear();
        return;
    }
    const MapDisplay& da = m_viewer.displays[0];
    const MapDisplay& db = m_viewer.displays[1];
    const std::string key = fmt::format("{}/{}/{}/{}/{}/{}/{}", m_panels[0].generation, m_panels[1].generation, da.index,
                                        da.map, db.index, db.map, m_viewer.rankDifference);
    if (key == m_differenceKey) return;
    m_differenceKey = key;
    auto a = m_panels[0].result, b = m_panels[1].result;
    const bool ranks = m_viewer.rankDifference;
    const size_t ia = size_t(std::clamp(da.index, 0, int(a->items.size()) - 1));
    const size_t ib = size_t(std::clamp(db.index, 0, int(b->items.size()) - 1));
    const size_t ma = size_t(std::clamp(da.map, 0, int(a->items[ia].maps.size()) - 1));
    const size_t mb = size_t(std::clamp(db.map, 0, int(b->items[ib].maps.size()) - 1));
    m_jobs.submit(kDifferenceSlot, "Difference of panels A and B", [a, b, ia, ib, ma, mb, ranks](JobContext&) {
        auto d = std::make_shared<DifferenceView>();
        d->values = mapDifference(a->items[ia].maps[ma].values, b->items[ib].maps[mb].values, ranks);
        float extent = 0.0f;
        for (float v : d->values.voxels) extent = std::max(extent, std::abs(v));
        d->extent = extent > 0.0f ? extent : 1.0f;
        d->description = fmt::format("{} - {}{}", methodTitle(a->items[ia].method), methodTitle(b->items[ib].method),
                                     ranks ? " (ranks)" : " (normalised)");
        return std::any(std::shared_ptr<const DifferenceView>(d));
    });
}

void Workspace::openSession(const Session& session) {
    m_pendingSession = std::make_shared<const Session>(session);
    if (!session.model.empty()) openModel(session.model);
    submitLoad(session.study);
}

void Workspace::explainAllPanels(const TargetSpec& target) {
    for (int panel = 0; panel < int(m_panels.size()); ++panel) explain(panel, target);
}

void Workspace::setPanelCount(int count) {
    count = std::clamp(count, 1, kMaxPanels);
    while (int(m_panels.size()) < count) {
        Panel panel = m_panels.back();
        panel.result.reset();
        m_panels.push_back(std::move(panel));
    }
    m_panels.resize(size_t(count));
    ++m_explanationGeneration;
}

void Workspace::setPanelModel(int panel, const std::string& path) {
    if (panel < 0 || panel >= int(m_panels.size())) return;
    Panel& p = m_panels[size_t(panel)];
    p.modelPath = path;
    p.ownModel.reset();
    p.result.reset();
    ++m_explanationGeneration;
    if (path.empty()) return;
    std::optional<Geometry> grid;
    if (m_study) grid = m_study->study->geometry;
    m_jobs.submit(std::string(kModelSlot) + ":" + std::to_string(panel), "Loading a panel's model", [path, grid](JobContext& job) {
        job.progress(0.1f, "reading TorchScript");
        return std::any(catalogue(Model::load(path), grid ? &*grid : nullptr, {}));
    });
}

void Workspace::adoptExplanations(int panel, std::shared_ptr<const ExplanationSet> set) {
    Panel& p = m_panels[size_t(panel)];
    p.result = std::move(set);
    ++p.generation;
    ++m_explanationGeneration;
    for (const Explanation& e : p.result->items) {
        logInfo("panel {}: {}: {}, S = {:.5g} ({}), {:.2f} s", char('A' + panel), methodTitle(e.method),
                e.targetDescription, e.score, e.scoreOn, e.seconds);
        for (const auto& w : e.warnings) logWarning("{}", w);
    }
    if (std::exchange(m_displayFromSession[size_t(panel)], false)) return; // as the session showed it
    MapDisplay& display = m_viewer.displays[size_t(panel)];
    display.index = 0;
    display.show = true;
    // Labels as outlines, so the map shows beneath them; and the input channel that carries
    // most of the attribution first.
    m_viewer.segmentationOutline = true;
    display.map = 0;
    const auto& maps = p.result->items.front().maps;
    double best = -1.0;
    for (size_t m = 0; m < maps.size(); ++m) {
        double total = 0.0;
        for (float v : maps[m].values.voxels) total += std::abs(v);
        if (total > best) {
            best = total;
            display.map = int(m);
        }
    }
}

void Workspace::clearExplanations() {
    bool any = false;
    for (Panel& panel : m_panels) {
        any = any || panel.result;
        panel.result.reset();
    }
    if (any) ++m_explanationGeneration;
}

void Workspace::adoptModel(std::shared_ptr<const LoadedModel> model) {
    m_model = std::move(model);
    logInfo("model: {}", m_model->model->summary());
    clearExplanations();
    for (const auto& note : m_model->notes) logInfo("  {}", note);
    if (m_model->model->card().syntheticData) logInfo("  this model was trained on synthetic data");
    clearSegmentation();
    segmentWhenReady();
}

bool Workspace::matchChannelsToModel() {
    m_channelMatch.reset();
    m_pendingChannels.reset();
    if (!m_study || !m_model) return false;
    StudyRequest request = m_request;
    const auto& inputs = m_model->model->card().inputChannels;
    const ChannelMatch match = matchStudyRequest(request, inputs, m_study->channelNames);
    m_channelMatch = match;
    for (const auto& w : match.warnings) logWarning("channels: {}", w);
    switch (match.outcome) {
    case ChannelMatch::Outcome::Reordered:
        logInfo("channels matched to the model's inputs by name: {}; reloading the study in that order", match.mapping);
        submitLoad(std::move(request));
        return true;
    case ChannelMatch::Outcome::Ambiguous: {
        ChannelChoice choice;
        for (const auto& path : m_request.channelPaths) choice.channels.push_back(std::filesystem::path(path).filename().string());
        choice.inputs = inputs;
        choice.reason = match.reason;
        m_pendingChannels = std::move(choice);
        logWarning("channels: {}; which file is which input?", match.reason);
        return true;
    }
    case ChannelMatch::Outcome::Unrecognised:
        logInfo("channels: {} (in the order given: {})", match.mapping, match.reason);
        return false;
    default: return false;
    }
}

void Workspace::segmentWhenReady() {
    if (matchChannelsToModel()) return;
    if (m_study && m_model && autoSegment) segment();
}

void Workspace::setChannelMatching(bool on) {
    if (!m_study || on == channelMatching()) return;
    m_request.keepChannelOrder = !on;
    if (on && !m_segmentation) {
        segmentWhenReady();
    } else if (on) {
        if (matchChannelsToModel()) clearSegmentation();
    } else {
        m_channelMatch.reset();
        m_pendingChannels.reset();
    }
}

void Workspace::setChannelOrder(const std::vector<size_t>& order) {
    if (!m_study || order.size() != m_request.channelPaths.size()) return;
    StudyRequest request = m_request;
    request.channelPaths = reordered(m_request.channelPaths, order);
    if (request.dicomSeries.size() == order.size()) request.dicomSeries = reordered(m_request.dicomSeries, order);
    request.referenceChannel = size_t(std::find(order.begin(), order.end(), m_request.referenceChannel) - order.begin());
    request.keepChannelOrder = true;
    m_pendingChannels.reset();
    if (request.channelPaths == m_request.channelPaths) {
        m_request.keepChannelOrder = true;
        segmentWhenReady();
        return;
    }
    submitLoad(std::move(request));
}

void Workspace::adoptSegmentation(std::shared_ptr<const Segmentation> segmentation,
                                  std::shared_ptr<const InstanceSet> instances, std::shared_ptr<const LoadedModel> model) {
    m_segmentation = std::move(segmentation);
    m_instances = std::move(instances);
    m_viewer.selectedInstance = 0;
    ++m_segmentationGeneration;
    if (model) m_model = std::move(model);
    m_viewer.classVisible.assign(m_segmentation->classNames.size(), true);
    m_viewer.probabilityClass = std::min<int>(std::max(1, m_viewer.probabilityClass),
                                              int(m_segmentation->classNames.size()) - 1);
    logInfo("segmented in {:.2f} s on {}", m_segmentation->seconds, m_segmentation->device);
    // A session with a painted lesion is restored once the painted study is segmented.
    if (m_pendingSession && (!m_pendingSession->synthetic || m_synthetic)) restorePanels();
}

void Workspace::restorePanels() {
    const auto session = std::move(m_pendingSession);
    m_pendingSession.reset();
    applyViewState(session->view, m_viewer);
    if (!session->panels.empty()) {
        setPanelCount(int(session->panels.size()));
        for (size_t n = 0; n < session->panels.size(); ++n) {
            const Session::PanelEntry& entry = session->panels[n];
            m_panels[n].methods = entry.methods;
            m_panels[n].parameters = entry.parameters;
            if (!entry.modelPath.empty()) setPanelModel(int(n), entry.modelPath);
        }
    }
    if (!session->targetSpec.empty()) {
        const TargetSpec target = parseTargetSpec(session->targetSpec);
        for (size_t n = 0; n < session->panels.size(); ++n) {
            if (!session->panels[n].explained || session->panels[n].shows != MapSource::Kind::Explanation) continue;
            m_displayFromSession[n] = true;
            explain(int(n), target);
        }
    }
    applySessionSelection(*session);
    // The analyses panel A's maps (or the tabs) came from are computed again, then shown.
    m_restoringLesions = session->lesions.has_value();
    m_restoringAggregation = session->aggregation.has_value();
    if (m_restoringLesions || m_restoringAggregation) m_restoringSession = session;
    if (session->lesions) analyseLesions(session->lesions->options);
    if (session->aggregation) aggregate(session->aggregation->method, session->aggregation->parameters);
}

void Workspace::applySessionSelection(const Session& session) {
    if (!session.selectedVoxel || !m_instances || !m_study) return;
    const Index3& v = *session.selectedVoxel;
    if (!m_study->study->geometry.contains(v[0], v[1], v[2])) return;
    m_viewer.selectedInstance = m_instances->components[m_study->study->geometry.linearIndex(v[0], v[1], v[2])];
}

namespace {

// What showLesion() and showAggregationCell() move, put back as the session had it.
void restoreShownState(const ViewerState& saved, ViewerState& state) {
    state.displays[0] = saved.displays[0];
    state.crosshair = saved.crosshair;
    state.showSegmentation = saved.showSegmentation;
    state.segmentationOutline = saved.segmentationOutline;
}

} // namespace

void Workspace::restoreLesionView() {
    if (!std::exchange(m_restoringLesions, false) || !m_restoringSession) return;
    const auto session = m_restoringSession;
    if (!m_restoringAggregation) m_restoringSession.reset();
    const int id = session->lesions->shown;
    const bool panelShows = !session->panels.empty() && session->panels[0].explained &&
                            session->panels[0].shows == MapSource::Kind::Lesion;
    if (!panelShows) {
        m_shownLesion = id;
        return;
    }
    ViewerState saved = m_viewer;
    applyViewState(session->view, saved);
    m_displayFromSession[0] = true;
    showLesion(id, saved.displays[0].index, saved.displays[0].map);
    restoreShownState(saved, m_viewer);
    applySessionSelection(*session);
}

void Workspace::restoreAggregationView() {
    if (!std::exchange(m_restoringAggregation, false) || !m_restoringSession) return;
    const auto session = m_restoringSession;
    if (!m_restoringLesions) m_restoringSession.reset();
    const Session::AggregationEntry& cell = *session->aggregation;
    const bool panelShows = !session->panels.empty() && session->panels[0].explained &&
                            session->panels[0].shows == MapSource::Kind::AggregationCell;
    if (!panelShows || cell.row < 0) return;
    ViewerState saved = m_viewer;
    applyViewState(session->view, saved);
    m_displayFromSession[0] = true;
    showAggregationCell(cell.row, cell.segment, cell.part);
    restoreShownState(saved, m_viewer);
    applySessionSelection(*session);
}

void Workspace::pickAtCrosshair() {
    m_viewer.pickPending = false;
    if (!m_instances || !m_study) return;
    const Index3& v = m_viewer.crosshair;
    m_viewer.selectedInstance = m_instances->components[m_study->study->geometry.linearIndex(v[0], v[1], v[2])];
}

void Workspace::selectInstance(int listIndex) {
    if (!m_instances || listIndex < 0 || listIndex >= int(m_instances->instances.size())) return;
    const Instance& instance = m_instances->instances[size_t(listIndex)];
    m_viewer.selectedInstance = instance.id;
    m_viewer.crosshair = instance.representative;
}

int Workspace::selectedListIndex() const {
    if (!m_instances) return -1;
    for (size_t n = 0; n < m_instances->instances.size(); ++n) {
        if (m_instances->instances[n].id == m_viewer.selectedInstance) return int(n);
    }
    return -1;
}

void Workspace::clearSegmentation() {
    clearExplanations();
    m_restoringSession.reset();
    m_restoringLesions = m_restoringAggregation = false;
    if (m_lesions) ++m_lesionGeneration;
    m_lesions.reset();
    m_aggregation.reset();
    m_benchmark.reset();
    m_viewer.segmentShading.clear();
    m_shownLesion = 0;
    m_instances.reset();
    m_viewer.selectedInstance = 0;
    if (!m_segmentation) return;
    m_segmentation.reset();
    ++m_segmentationGeneration;
}

bool looksLikeLabelMap(const std::string& path) {
    static const std::regex pattern(R"((^|[^a-z])(seg|segmentation|labels?|mask|gt|truth)([^a-z]|$))",
                                    std::regex::icase);
    return std::regex_search(std::filesystem::path(path).filename().string(), pattern);
}

void Workspace::openStudy(StudyRequest request) {
    // A DICOM folder with several series: ask which one, before loading.
    for (size_t c = 0; c < request.channelPaths.size(); ++c) {
        const std::string& path = request.channelPaths[c];
        std::error_code ec;
        const bool chosen = c < request.dicomSeries.size() && !request.dicomSeries[c].empty();
        if (!std::filesystem::is_directory(path, ec) || chosen) continue;
        try {
            auto series = listDicomSeries(path);
            if (series.size() > 1) {
                m_pendingSeries = SeriesChoice{std::move(request), c, std::move(series)};
                return;
            }
        } catch (const std::exception& e) {
            reportError(e.what());
            return;
        }
    }
    submitLoad(std::move(request));
}

void Workspace::submitLoad(StudyRequest request) {
    const uint64_t id = m_jobs.submit(kLoadSlot, "Loading study", [request](JobContext& job) {
        return std::any(loadStudyForViewing(request, job));
    });
    // A new load supersedes any earlier one (same slot): its result will never arrive.
    m_inFlight.clear();
    m_inFlight.emplace_back(id, std::move(request));
}

void Workspace::addChannels(const std::vector<std::string>& paths) {
    if (!m_study) {
        openStudy(StudyRequest{paths, std::nullopt, {}});
        return;
    }
    StudyRequest request = m_request;
    request.channelPaths.insert(request.channelPaths.end(), paths.begin(), paths.end());
    openStudy(std::move(request));
}

void Workspace::loadGroundTruth(const std::string& path) {
    if (!m_study) {
        reportError("open a study before loading its ground truth");
        return;
    }
    StudyRequest request = m_request;
    request.groundTruthPath = path;
    submitLoad(std::move(request));
}

void Workspace::openPaths(const std::vector<std::string>& given) {
    std::vector<std::string> paths;
    for (const auto& path : given) {
        if (isModelPath(path)) {
            openModel(path);
        } else {
            paths.push_back(path);
        }
    }
    if (paths.empty()) return;
    for (const auto& path : paths) {
        if (!isSupportedImagePath(path)) {
            reportError(path + ": not a study file SegXAI reads (NIfTI .nii/.nii.gz, NRRD, "
                               "MetaImage .mha/.mhd, or a DICOM folder)");
            return;
        }
    }
    if (m_study) {
        m_pendingDrop = DropChoice{paths};
        return;
    }
    StudyRequest request;
    for (const auto& path : paths) {
        if (looksLikeLabelMap(path) && !request.groundTruthPath && paths.size() > 1) {
            request.groundTruthPath = path;
        } else {
            request.channelPaths.push_back(path);
        }
    }
    openStudy(std::move(request));
}

void Workspace::cancelLoading() {
    for (const auto& job : m_jobs.active()) {
        if (job.slot == kLoadSlot) m_jobs.cancel(job.id);
    }
}

void Workspace::adopt(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request) {
    const bool sameChannels = m_study && request.channelPaths == m_request.channelPaths &&
                              request.dicomSeries == m_request.dicomSeries;
    auto referencePath = [](const StudyRequest& r) {
        return r.channelPaths.empty() ? std::string() : r.channelPaths[std::min(r.referenceChannel, r.channelPaths.size() - 1)];
    };
    const bool sameStudy = m_study && !request.channelPaths.empty() && referencePath(request) == referencePath(m_request) &&
                           loaded->study->geometry.sameGrid(m_study->study->geometry);
    m_study = std::move(loaded);
    m_request = request;
    ++m_studyGeneration;
    m_synthetic.reset();
    m_unpainted.reset();
    const Study& study = *m_study->study;
    if (!sameStudy) {
        m_viewer = ViewerState{};
        for (int a = 0; a < 3; ++a) m_viewer.crosshair[size_t(a)] = study.geometry.dims[size_t(a)] / 2;
        m_viewer.windows = m_study->displayRanges;
    } else {
        // Keep the view; add display ranges for new channels.
        for (size_t c = m_viewer.windows.size(); c < m_study->displayRanges.size(); ++c) {
            m_viewer.windows.push_back(m_study->displayRanges[c]);
        }
        m_viewer.windows.resize(m_study->displayRanges.size());
        m_viewer.displayChannel = std::min(m_viewer.displayChannel, int(study.channels.size()) - 1);
    }
    if (m_pendingSession) {
        applyViewState(m_pendingSession->view, m_viewer);
        if (m_pendingSession->synthetic) insertSyntheticLesion(*m_pendingSession->synthetic);
    }
    logInfo("loaded study: {} channel(s), {}{}", study.channels.size(), study.geometry.describe(),
            study.groundTruth ? ", with ground truth" : "");
    for (const auto& warning : study.warnings) logWarning("{}", warning);
    if (!sameChannels) {
        clearSegmentation();
        segmentWhenReady();
    }
}

void Workspace::processResults() {
    for (JobResult& result : m_jobs.drain()) {
        if (processLesionResult(result) || processAggregationResult(result)) continue;
        if (result.slot == kDemoSlot) {
            if (result.status == JobStatus::Failed) {
                reportError("the demo could not be prepared: " + result.error);
            } else if (result.status == JobStatus::Succeeded) {
                auto [request, modelPath] = std::any_cast<std::pair<StudyRequest, std::string>>(result.value);
                logInfo("lesion demo: the lesions and the FLAIR contrast are synthetic (made from the "
                        "Colin27 template); the model is SegXAI's demo model");
                openModel(modelPath);
                openStudy(request);
            }
            continue;
        }
        if (result.slot == kDifferenceSlot) {
            if (result.status == JobStatus::Failed) reportError(result.error);
            if (result.status == JobStatus::Succeeded) {
                m_difference = std::any_cast<std::shared_ptr<const DifferenceView>>(result.value);
                ++m_differenceGeneration;
            }
            continue;
        }
        if (result.slot.rfind(kExplainSlot, 0) == 0) {
            const int panel = std::stoi(result.slot.substr(std::strlen(kExplainSlot) + 1));
            if (result.status == JobStatus::Failed) {
                reportError(result.error);
            } else if (result.status == JobStatus::Cancelled) {
                logInfo("explanation cancelled");
            } else if (panel < int(m_panels.size())) {
                adoptExplanations(panel, std::any_cast<std::shared_ptr<const ExplanationSet>>(result.value));
            }
            continue;
        }
        if (result.slot.rfind(std::string(kModelSlot) + ":", 0) == 0) {
            const int panel = std::stoi(result.slot.substr(std::strlen(kModelSlot) + 1));
            if (result.status == JobStatus::Failed) {
                reportError(result.error);
            } else if (result.status == JobStatus::Succeeded && panel < int(m_panels.size())) {
                Panel& p = m_panels[size_t(panel)];
                p.ownModel = std::any_cast<std::shared_ptr<const LoadedModel>>(result.value);
                logInfo("panel {} model: {}", char('A' + panel), p.ownModel->model->summary());
                if (p.pendingTarget) {
                    const TargetSpec target = *p.pendingTarget;
                    p.pendingTarget.reset();
                    explain(panel, target);
                }
            }
            continue;
        }
        if (result.slot == kModelSlot || result.slot == kSegmentSlot) {
            if (result.status == JobStatus::Failed) {
                reportError(result.error);
            } else if (result.status == JobStatus::Cancelled) {
                logInfo("{} cancelled", result.title);
            } else if (result.slot == kModelSlot) {
                adoptModel(std::any_cast<std::shared_ptr<const LoadedModel>>(result.value));
            } else {
                auto r = std::any_cast<SegmentResult>(result.value);
                adoptSegmentation(std::move(r.segmentation), std::move(r.instances), std::move(r.model));
            }
            continue;
        }
        if (result.slot != kLoadSlot) continue;
        auto it = std::find_if(m_inFlight.begin(), m_inFlight.end(),
                               [&](const auto& entry) { return entry.first == result.id; });
        if (it == m_inFlight.end()) continue;
        const StudyRequest request = it->second;
        m_inFlight.erase(it);
        switch (result.status) {
        case JobStatus::Succeeded:
            adopt(std::any_cast<std::shared_ptr<const LoadedStudy>>(result.value), request);
            break;
        case JobStatus::Cancelled: logInfo("loading cancelled"); break;
        case JobStatus::Failed:
            reportError(result.error);
            m_pendingSession.reset();
            break;
        }
    }
}

void Workspace::reportError(const std::string& message) {
    logError("{}", message);
    m_errors.push_back(message);
}

std::vector<std::string> Workspace::takeErrors() {
    std::vector<std::string> errors;
    errors.swap(m_errors);
    return errors;
}

} // namespace segxai::app
