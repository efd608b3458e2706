#include "app/gui/state/workspace.h"

#include "engine/core/log.h"
#include "engine/demo/demo_data.h"
#include "engine/io/study_channels.h"
#include "engine/model/inference.h"
#include "engine/model/monai_bundle.h"
#include "render/shell_normals.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

namespace segxai::app {
namespace {

const JobSlot kLoadSlot{"study"};
const JobSlot kModelSlot{"model"};
const JobSlot kSegmentSlot{"segment"};
const JobSlot kDemoSlot{"demo"};

std::string referencePath(const StudyRequest& r) {
    return r.channelPaths.empty() ? std::string()
                                  : r.channelPaths[std::min(r.referenceChannel, r.channelPaths.size() - 1)];
}

} // namespace

std::vector<std::string> Workspace::inputPaths() const {
    std::vector<std::string> paths = m_request.channelPaths;
    if (m_request.groundTruthPath) paths.push_back(*m_request.groundTruthPath);
    if (m_model) paths.push_back(m_model->model->path());
    return paths;
}

bool Workspace::loadingModel() const {
    return m_jobs.busy(kModelSlot);
}
bool Workspace::segmenting() const {
    return m_jobs.busy(kSegmentSlot);
}

void Workspace::openDemo(const std::string& cacheFolder, const std::string& modelPath, const NnunetOptions& nnunet) {
    m_jobs.submit(
        kDemoSlot, "Preparing the lesion demo",
        [cacheFolder](JobContext& job) {
            job.progress(0.1f, "synthesising the demo study (first run only)");
            const DemoStudyFiles files = ensureDemoStudy(DemoTask::Lesions, cacheFolder + "/lesions");
            StudyRequest request;
            request.channelPaths = files.channels;
            request.groundTruthPath = files.groundTruth;
            return request;
        },
        [this, modelPath, nnunet](StudyRequest request) {
            logInfo("lesion demo: the lesions and the FLAIR contrast are synthetic (made from the "
                    "Colin27 template); the model is SegXAI's demo model");
            openModel(modelPath, nnunet);
            openStudy(std::move(request));
        },
        [this](const JobReport& report) {
            if (report.status == JobStatus::Failed) m_messages.error("the demo could not be prepared: " + report.error);
        });
}

void Workspace::openModel(const std::string& path, const NnunetOptions& nnunet) {
    std::optional<Geometry> grid;
    if (m_study) grid = m_study->study->geometry;
    m_jobs.submit(
        kModelSlot, "Loading model",
        [path, grid, nnunet](JobContext& job) {
            job.progress(0.1f, "reading the model");
            std::vector<std::string> notes;
            std::error_code ec;
            if (std::filesystem::is_directory(std::filesystem::path(path) / "configs", ec))
                notes = readMonaiBundle(path).notes;
            auto model = Model::load(path, nnunet);
            for (const auto& note : model->predictionNotes())
                notes.push_back(note);
            job.throwIfStopped();
            job.progress(0.5f, "listing layers");
            return catalogue(std::move(model), grid ? &*grid : nullptr, std::move(notes));
        },
        [this](std::shared_ptr<const LoadedModel> model) { adoptModel(std::move(model)); });
}

void Workspace::segment() {
    if (!m_study || !m_model) return;
    auto study = m_study->study;
    auto model = m_model;
    m_jobs.submit(
        kSegmentSlot, "Segmenting",
        [study, model](JobContext& job) {
            SegmentResult result;
            result.segmentation = std::make_shared<const Segmentation>(segmentStudy(*model->model, *study, &job));
            job.progress(0.95f, "finding structures");
            const auto start = std::chrono::steady_clock::now();
            result.instances = std::make_shared<const InstanceSet>(findInstances(*result.segmentation));
            result.structureSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const LabelVolume& labels = result.segmentation->labels;
            result.shellNormals = std::make_shared<const std::vector<glm::u8vec4>>(render::shellNormals(
                glm::ivec3(labels.geometry.dims[0], labels.geometry.dims[1], labels.geometry.dims[2]),
                labels.labels.data()));
            result.classVoxels.assign(result.segmentation->classNames.size(), 0);
            for (uint16_t label : result.segmentation->labels.labels)
                ++result.classVoxels[label];
            const auto shape = inputShapeFor(*model->model, &study->geometry);
            result.model =
                shape == model->layerInputShape ? model : catalogue(model->model, &study->geometry, model->notes);
            return result;
        },
        [this](SegmentResult result) { adoptSegmentation(std::move(result)); });
}

void Workspace::adoptModel(std::shared_ptr<const LoadedModel> model) {
    m_model = std::move(model);
    logInfo("model: {}", m_model->model->summary());
    for (const auto& note : m_model->notes)
        logInfo("  {}", note);
    if (m_model->model->card().syntheticData) logInfo("  this model was trained on synthetic data");
    dropSegmentation();
    segmentWhenReady();
}

void Workspace::adoptSegmentation(SegmentResult result) {
    m_segmentation = std::move(result.segmentation);
    m_instances = std::move(result.instances);
    m_shellNormals = std::move(result.shellNormals);
    m_classVoxels = std::move(result.classVoxels);
    m_viewer.selectedInstance = 0;
    ++m_segmentationGeneration;
    if (result.model) m_model = std::move(result.model);
    m_viewer.classVisible.assign(m_segmentation->classNames.size(), true);
    m_viewer.probabilityClass =
        std::min<int>(std::max(1, m_viewer.probabilityClass), int(m_segmentation->classNames.size()) - 1);
    logInfo("segmented in {:.2f} s on {}", m_segmentation->seconds, m_segmentation->device);
    if (m_instances) logInfo("{} structures found in {:.1f} s", m_instances->instances.size(), result.structureSeconds);
    if (onSegmented) onSegmented();
}

void Workspace::dropSegmentation() {
    m_instances.reset();
    m_shellNormals.reset();
    m_classVoxels.clear();
    m_viewer.selectedInstance = 0;
    m_segmentation.reset();
    ++m_segmentationGeneration;
}

bool Workspace::matchChannelsToModel() {
    m_channelMatch.reset();
    m_pendingChannels.reset();
    if (!m_study || !m_model) return false;
    StudyRequest request = m_request;
    const auto& inputs = m_model->model->card().inputChannels;
    const ChannelMatch match = matchStudyRequest(request, inputs, m_study->channelNames);
    m_channelMatch = match;
    for (const auto& w : match.warnings)
        logWarning("channels: {}", w);
    switch (match.outcome) {
    case ChannelMatch::Outcome::Reordered:
        logInfo("channels matched to the model's inputs by name: {}; reloading the study in that order", match.mapping);
        submitLoad(std::move(request));
        return true;
    case ChannelMatch::Outcome::Ambiguous: {
        ChannelChoice choice;
        for (const auto& path : m_request.channelPaths)
            choice.channels.push_back(std::filesystem::path(path).filename().string());
        choice.inputs = inputs;
        choice.reason = match.reason;
        m_pendingChannels = std::move(choice);
        logWarning("channels: {}; which file is which input?", match.reason);
        return true;
    }
    case ChannelMatch::Outcome::Unrecognised:
        logInfo("channels: {} (in the order given: {})", match.mapping, match.reason);
        return false;
    default:
        return false;
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
        if (matchChannelsToModel()) dropSegmentation();
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
    request.referenceChannel =
        size_t(std::find(order.begin(), order.end(), m_request.referenceChannel) - order.begin());
    request.keepChannelOrder = true;
    m_pendingChannels.reset();
    if (request.channelPaths == m_request.channelPaths) {
        m_request.keepChannelOrder = true;
        segmentWhenReady();
        return;
    }
    submitLoad(std::move(request));
}

std::optional<Workspace::Segmented> Workspace::segmented(const std::string& what) {
    if (!m_study || !m_model || !m_segmentation) {
        m_messages.error(what + " needs a study, a model and its segmentation");
        return std::nullopt;
    }
    return Segmented{m_study->study, m_model->model, m_segmentation, m_segmentationGeneration};
}

void Workspace::pickAtCrosshair() {
    m_viewer.pickPending = false;
    m_viewer.selectedInstance = instanceAt(m_viewer.crosshair);
    // Once a structure is picked, it is what the Explain tab explains by default.
    if (m_viewer.selectedInstance != 0) m_viewer.target.kind = TargetSpec::Kind::Instance;
}

std::string Workspace::structureName(int32_t id) const {
    if (!m_instances || !m_segmentation) return "";
    const int n = m_instances->positionOf(id);
    if (n < 0) return "";
    return m_segmentation->classNames[size_t(m_instances->instances[size_t(n)].classIndex)] + " " +
           std::to_string(n + 1);
}

int32_t Workspace::instanceAt(const Index3& v) const {
    if (!m_instances || !m_study || !m_study->study->geometry.contains(v[0], v[1], v[2])) return 0;
    return m_instances->components[m_study->study->geometry.linearIndex(v[0], v[1], v[2])];
}

void Workspace::selectInstance(int listIndex) {
    if (!m_instances || listIndex < 0 || listIndex >= int(m_instances->instances.size())) return;
    const Instance& instance = m_instances->instances[size_t(listIndex)];
    m_viewer.selectedInstance = instance.id;
    m_viewer.crosshair = instance.representative;
    m_viewer.target.kind = TargetSpec::Kind::Instance;
}

int Workspace::selectedListIndex() const {
    return m_instances ? m_instances->positionOf(m_viewer.selectedInstance) : -1;
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
            if (series.size() > 1 && askForSeries) {
                m_pendingSeries = SeriesChoice{std::move(request), c, std::move(series)};
                return;
            }
            if (series.size() > 1) {
                logWarning("{} holds {} series; reading the largest: {}", path, series.size(),
                           series.front().summary());
                request.dicomSeries.resize(request.channelPaths.size());
                request.dicomSeries[c] = series.front().uid;
            }
        } catch (const std::exception& e) {
            m_messages.error(e.what());
            return;
        }
    }
    submitLoad(std::move(request));
}

void Workspace::submitLoad(StudyRequest request) {
    // A new load supersedes any earlier one (same slot): its result will never arrive.
    m_loadInFlight = m_jobs.submit(
        kLoadSlot, "Loading study", [request](JobContext& job) { return loadStudyForViewing(request, job); },
        [this, request](std::shared_ptr<const LoadedStudy> loaded) {
            m_loadInFlight.reset();
            adoptStudy(std::move(loaded), request);
        },
        [this](const JobReport& report) {
            m_loadInFlight.reset();
            m_messages.jobEnded(report);
            if (report.status == JobStatus::Failed && onLoadFailed) onLoadFailed();
        });
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
        m_messages.error("open a study before loading its ground truth");
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
            m_messages.error(path + ": not a study file SegXAI reads (NIfTI .nii/.nii.gz, NRRD, "
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

void Workspace::adoptStudy(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request) {
    const bool sameChannels =
        m_study && request.channelPaths == m_request.channelPaths && request.dicomSeries == m_request.dicomSeries;
    const bool sameStudy = m_study && !request.channelPaths.empty() &&
                           referencePath(request) == referencePath(m_request) &&
                           loaded->study->geometry.sameGrid(m_study->study->geometry);
    m_study = std::move(loaded);
    m_request = request;
    ++m_studyGeneration;
    const Study& study = *m_study->study;
    if (!sameStudy) {
        m_viewer = ViewerState{};
        for (int a = 0; a < 3; ++a)
            m_viewer.crosshair[size_t(a)] = study.geometry.dims[size_t(a)] / 2;
        m_viewer.windows = m_study->displayRanges;
    } else {
        // Keep the view; add display ranges for new channels.
        for (size_t c = m_viewer.windows.size(); c < m_study->displayRanges.size(); ++c) {
            m_viewer.windows.push_back(m_study->displayRanges[c]);
        }
        m_viewer.windows.resize(m_study->displayRanges.size());
        m_viewer.displayChannel = std::min(m_viewer.displayChannel, int(study.channels.size()) - 1);
    }
    logInfo("loaded study: {} channel(s), {}{}", study.channels.size(), study.geometry.describe(),
            study.groundTruth ? ", with ground truth" : "");
    for (const auto& warning : study.warnings)
        logWarning("{}", warning);
    if (onStudyLoaded) onStudyLoaded();
    if (!sameChannels) {
        dropSegmentation();
        segmentWhenReady();
    }
}

void Workspace::replacePixels(std::shared_ptr<const LoadedStudy> loaded) {
    m_study = std::move(loaded);
    ++m_studyGeneration;
    dropSegmentation();
    if (m_model && autoSegment) segment();
}

} // namespace segxai::app
