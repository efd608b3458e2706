#pragma once
#include "app/gui/loaded_study.h"
#include "app/gui/viewer_state.h"
#include "engine/image_io.h"
#include "engine/explanation.h"
#include "engine/job_runner.h"
#include "engine/model.h"
#include "engine/segmentation.h"
#include "engine/study.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// A model as the viewer holds it, with its layer catalogue for the open study's input shape.
struct LoadedModel {
    std::shared_ptr<const Model> model;
    std::vector<LayerInfo> layers;
    std::vector<int64_t> layerInputShape; // C, X, Y, Z the catalogue was made for
    std::vector<std::string> notes;
};

// What the Explain panel asks for.
struct ExplainChoice {
    std::vector<Method> methods;
    ExplainParameters parameters;
    TargetSpec target;
};

// Explanations of one target, with the display extents the engine thread worked out.
struct ExplanationSet {
    std::vector<Explanation> items;
    // Per item and map: a robust extent (99.5th percentile of |value| over non-zero voxels)
    // and the largest |value|.
    std::vector<std::vector<std::pair<float, float>>> extents;
    std::string targetDescription;
    double seconds = 0.0;
};

// The open study, model and segmentation, and the commands that change them. Commands post jobs to the engine; results
// arrive through processResults(), called once per frame from the one UI inbox. UI thread only.
class Workspace {
public:
    explicit Workspace(JobRunner& jobs) : m_jobs(jobs) {}

    // Replaces the study once the new one has loaded; the current one stays open on failure.
    void openStudy(StudyRequest request);
    // Reloads the current study with these extra channels / this ground truth.
    void addChannels(const std::vector<std::string>& paths);
    void loadGroundTruth(const std::string& path);
    // Paths dropped on the window or given on the command line: opens them as a study when
    // none is open, otherwise asks (see pendingDrop) how to use them.
    void openPaths(const std::vector<std::string>& paths);
    void cancelLoading();

    // The lesion demo: its held-out study (generated into `cacheFolder` on first use) and
    // the demo model at `modelPath`.
    void openDemo(const std::string& cacheFolder, const std::string& modelPath);
    // Loads a TorchScript file or MONAI bundle folder; the current model stays on failure.
    void openModel(const std::string& path);
    // Segments the open study with the open model (engine thread).
    void segment();
    // Explains the segmentation (engine thread); needs a study, a model and a segmentation.
    void explain(const ExplainChoice& choice);
    bool autoSegment = true; // segment when a study or a model arrives

    void processResults();

    // State read by panels.
    const std::shared_ptr<const LoadedStudy>& study() const { return m_study; }
    // A load was requested and its result has not been processed yet.
    bool loading() const { return !m_inFlight.empty(); }
    uint64_t studyGeneration() const { return m_studyGeneration; }
    const StudyRequest& studyRequest() const { return m_request; }
    const std::shared_ptr<const LoadedModel>& model() const { return m_model; }
    const std::shared_ptr<const Segmentation>& segmentation() const { return m_segmentation; }
    uint64_t segmentationGeneration() const { return m_segmentationGeneration; }
    const std::shared_ptr<const ExplanationSet>& explanations() const { return m_explanations; }
    uint64_t explanationGeneration() const { return m_explanationGeneration; }
    bool busy(const char* slot) const;
    ViewerState& viewer() { return m_viewer; }
    JobRunner& jobs() { return m_jobs; }

    // Dialog requests the UI answers (drop choice, DICOM series choice, errors).
    struct DropChoice {
        std::vector<std::string> paths;
    };
    struct SeriesChoice {
        StudyRequest request;
        size_t channel = 0;
        std::vector<DicomSeries> series;
    };
    std::optional<DropChoice>& pendingDrop() { return m_pendingDrop; }
    std::optional<SeriesChoice>& pendingSeriesChoice() { return m_pendingSeries; }
    std::vector<std::string> takeErrors();

private:
    void submitLoad(StudyRequest request);
    void adopt(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request);
    void adoptModel(std::shared_ptr<const LoadedModel> model);
    void adoptSegmentation(std::shared_ptr<const Segmentation> segmentation, std::shared_ptr<const LoadedModel> model);
    void clearSegmentation();
    void clearExplanations();
    void reportError(const std::string& message);

    JobRunner& m_jobs;
    std::shared_ptr<const LoadedStudy> m_study;
    uint64_t m_studyGeneration = 0;
    std::shared_ptr<const LoadedModel> m_model;
    std::shared_ptr<const Segmentation> m_segmentation;
    uint64_t m_segmentationGeneration = 0;
    std::shared_ptr<const ExplanationSet> m_explanations;
    uint64_t m_explanationGeneration = 0;
    StudyRequest m_request;
    ViewerState m_viewer;
    std::optional<DropChoice> m_pendingDrop;
    std::optional<SeriesChoice> m_pendingSeries;
    std::vector<std::string> m_errors;
    // Requests by job id, so a finished load knows what it loaded.
    std::vector<std::pair<uint64_t, StudyRequest>> m_inFlight;
};

// True for TorchScript files (.pt, .ts, .pth) and MONAI bundle folders.
bool isModelPath(const std::string& path);

// True for file names that look like label maps (ground truth): *seg*, *label*, *mask*, *gt*.
bool looksLikeLabelMap(const std::string& path);

} // namespace segxai::app
