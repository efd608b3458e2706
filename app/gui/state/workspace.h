#pragma once
#include "app/gui/state/loaded_study.h"
#include "app/gui/state/viewer_state.h"
#include "engine/io/image_io.h"
#include "engine/explain/explanation.h"
#include "engine/explain/instances.h"
#include "engine/core/job_runner.h"
#include "engine/model/model.h"
#include "engine/analysis/aggregation.h"
#include "engine/io/channel_matching.h"
#include "engine/explain/faithfulness.h"
#include "engine/analysis/lesion_report.h"
#include "engine/model/segmentation.h"
#include "engine/analysis/synthetic_lesion.h"
#include "engine/io/study.h"

#include <array>
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

// Figures of one map the engine thread worked out for display and comparison.
struct MapFigures {
    float extent = 1.0f;        // robust extent: 99.5th percentile of |value| over non-zero voxels
    float negativeExtent = 1.0f; // ... of |value| over the negative voxels (extent when none)
    float minimum = 0.0f;
    float maximum = 0.0f;
    double shareInTarget = 0.0; // share of sum |value| on the target's voxels
};

// Where a panel's maps came from, so that a session can make them again: an explanation of
// a target, a lesion's maps from the lesion analysis, or a cell of the Agg2Exp matrix.
struct MapSource {
    enum class Kind { Explanation, Lesion, AggregationCell };
    Kind kind = Kind::Explanation;
    TargetSpec target;   // Explanation
    int lesion = 0;      // Lesion: its id in the lesion analysis
    int row = 0;         // AggregationCell: the matrix row (target class) ...
    int segment = -1;    // ... restricted to this segment (-1: the whole map)
    AttributionPart part = AttributionPart::Absolute; // ... segments shaded by this part's mass
};

// Explanations of one target, as one comparison panel holds them.
struct ExplanationSet {
    std::vector<Explanation> items;
    std::vector<std::vector<MapFigures>> figures; // per item, per map
    std::string targetDescription;
    MapSource source;
    double seconds = 0.0;
};

// The explanations of one target with the figures the panels show (maps on one grid).
std::shared_ptr<ExplanationSet> makeExplanationSet(std::vector<Explanation> items, const Target& target, const Geometry& studyGrid,
                                                   MapSource source);

// The difference of panels A and B's shown maps (A - B of normalised maps, or of ranks).
struct DifferenceView {
    Volume values;
    float extent = 1.0f;
    std::string description;
};

// One comparison panel: its methods and parameters (optionally its own model), and its
// latest explanations.
struct Panel {
    std::vector<Method> methods{Method::SegGradCam};
    ExplainParameters parameters;
    std::string modelPath;                         // empty: the workspace's model
    std::shared_ptr<const LoadedModel> ownModel;   // loaded modelPath
    std::shared_ptr<const ExplanationSet> result;
    uint64_t generation = 0;
    std::optional<TargetSpec> pendingTarget;       // explain once ownModel has loaded
};

struct Session;

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

    // The study's channels as the model's inputs. With matching on (the default), a study and
    // a model that name their channels are put in the model's order (the study reloads in
    // it); ambiguous names are asked about (pendingChannelChoice). A user's own order turns
    // matching off for the study.
    const std::optional<ChannelMatch>& channelMatch() const { return m_channelMatch; }
    bool channelMatching() const { return !m_request.keepChannelOrder; }
    void setChannelMatching(bool on);
    // Reloads the study with its channels in this order (order[i]: the current channel that
    // becomes channel i), as the user's own: matching is turned off for it.
    void setChannelOrder(const std::vector<size_t>& order);

    // The lesion demo: its held-out study (generated into `cacheFolder` on first use) and
    // the demo model at `modelPath`.
    void openDemo(const std::string& cacheFolder, const std::string& modelPath);
    // Opens a saved session: loads its study and model, then restores its view, re-runs its
    // panels' explanations and re-selects its picked structure once the study is segmented.
    void openSession(const Session& session);
    // Loads a TorchScript file or MONAI bundle folder; the current model stays on failure.
    void openModel(const std::string& path);
    // Segments the open study with the open model (engine thread).
    void segment();
    // Explains the segmentation (engine thread) for one panel, or for every panel with the
    // same target; needs a study, a model and a segmentation.
    void explain(int panel, const TargetSpec& target);
    void explainAllPanels(const TargetSpec& target);
    // Comparison panels (1 to kMaxPanels); panel 0 always exists.
    std::vector<Panel>& panels() { return m_panels; }
    const std::vector<Panel>& panels() const { return m_panels; }
    void setPanelCount(int count);
    // Loads a model for one panel only (empty path: back to the workspace's model).
    void setPanelModel(int panel, const std::string& path);
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
    // The segmentation's connected structures (26-connected), found with it.
    const std::shared_ptr<const InstanceSet>& instances() const { return m_instances; }
    // Selects the structure under the crosshair (none on background); steps through the list.
    void pickAtCrosshair();
    void selectInstance(int listIndex); // moves the crosshair to it
    int selectedListIndex() const;
    uint64_t segmentationGeneration() const { return m_segmentationGeneration; }
    // Keeps the difference view of panels A and B current (call once per frame).
    void updateDifference();
    const std::shared_ptr<const DifferenceView>& difference() const { return m_difference; }
    uint64_t differenceGeneration() const { return m_differenceGeneration; }
    // Any panel's explanations changed (for views that cache derived data).
    uint64_t explanationGeneration() const { return m_explanationGeneration; }
    bool busy(const char* slot) const;

    // Lesion-level analysis (app/gui/workspace_lesions.cpp). Runs on the engine thread; a new
    // segmentation clears it.
    void analyseLesions(const LesionAnalysisOptions& options);
    const std::shared_ptr<const LesionAnalysis>& lesionAnalysis() const { return m_lesions; }
    uint64_t lesionGeneration() const { return m_lesionGeneration; }
    // Moves the views to a lesion, picks its structure and shows its maps in panel A.
    // `method` indexes the lesion's maps (SmoothGrad, its max variant, Seg-Grad-CAM++, those
    // computed), `map` the input channel; -1: the map most of the lesion's attribution is in.
    void showLesion(int id, int method = -1, int map = -1);
    int shownLesion() const { return m_shownLesion; }
    // Writes the analysis as `segxai lesions` does, into `folder` (on the engine thread).
    void saveLesionAnalysis(const std::string& folder);
    // Paints a synthetic lesion into the open study, which is then segmented again; removing
    // it reloads the study's files. Session files record the files, not the painted lesion.
    void insertSyntheticLesion(const SyntheticLesion& lesion);
    void removeSyntheticLesion();
    const std::optional<SyntheticLesion>& syntheticLesion() const { return m_synthetic; }
    // Paints and segments every radius x contrast scale of `lesion` (the open study unpainted).
    void sweepSyntheticLesion(const SyntheticLesion& lesion, std::vector<double> radiiMm, std::vector<double> contrastScales,
                              int classIndex, double threshold);
    const std::shared_ptr<const std::vector<SyntheticDetection>>& syntheticSweepResult() const { return m_sweep; }

    // Agg2Exp and the faithfulness benchmark (app/gui/workspace_aggregation.cpp), on the engine
    // thread; a new segmentation clears them.
    struct Aggregation {
        AggregationMatrix matrix;
        std::vector<Explanation> maps; // per row
        Method method = Method::Saliency;
        ExplainParameters parameters;
        double seconds = 0.0;
    };
    void aggregate(Method method, const ExplainParameters& parameters);
    const std::shared_ptr<const Aggregation>& aggregation() const { return m_aggregation; }
    // Shows row `row`'s class map restricted to segment `segment` (-1: the whole map) in panel A,
    // and shades the segments by that class's attribution mass (`part`) in every view and in 3D.
    void showAggregationCell(int row, int segment, AttributionPart part);
    void clearSegmentShading();
    // The cell panel A shows (nullptr when it shows something else).
    const MapSource* shownAggregationCell() const;
    void runBenchmark(std::vector<Method> methods, std::vector<Metric> metrics, const ExplainParameters& parameters,
                      const MetricOptions& options);
    const std::shared_ptr<const Benchmark>& benchmark() const { return m_benchmark; }
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
    struct ChannelChoice {
        std::vector<std::string> channels; // file names, in the study's order
        std::vector<std::string> inputs;   // the model's input names
        std::string reason;
    };
    std::optional<ChannelChoice>& pendingChannelChoice() { return m_pendingChannels; }
    std::optional<DropChoice>& pendingDrop() { return m_pendingDrop; }
    std::optional<SeriesChoice>& pendingSeriesChoice() { return m_pendingSeries; }
    std::vector<std::string> takeErrors();

private:
    void submitLoad(StudyRequest request);
    void adopt(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request);
    void adoptModel(std::shared_ptr<const LoadedModel> model);
    void adoptSegmentation(std::shared_ptr<const Segmentation> segmentation, std::shared_ptr<const InstanceSet> instances,
                           std::shared_ptr<const LoadedModel> model);
    void clearSegmentation();
    void restorePanels(); // the pending session's panels, explanations and selection
    // Once a restored analysis arrives: what panel A showed from it, then the session's view.
    void restoreLesionView();
    void restoreAggregationView();
    void applySessionSelection(const Session& session);
    void clearExplanations();
    void adoptExplanations(int panel, std::shared_ptr<const ExplanationSet> set);
    void reportError(const std::string& message);
    bool processLesionResult(JobResult& result); // true when it was one of the lesion slots
    bool processAggregationResult(JobResult& result);
    void adoptPixels(std::shared_ptr<const LoadedStudy> loaded); // same files and grid, other voxels
    // Matches the channels to the model; true when the study reloads or a choice is asked for
    // first (segment then).
    bool matchChannelsToModel();
    void segmentWhenReady();

    JobRunner& m_jobs;
    std::shared_ptr<const LoadedStudy> m_study;
    uint64_t m_studyGeneration = 0;
    std::shared_ptr<const LoadedModel> m_model;
    std::shared_ptr<const Segmentation> m_segmentation;
    std::shared_ptr<const InstanceSet> m_instances;
    uint64_t m_segmentationGeneration = 0;
    std::vector<Panel> m_panels{Panel{}};
    std::shared_ptr<const DifferenceView> m_difference;
    uint64_t m_differenceGeneration = 0;
    std::string m_differenceKey;
    std::shared_ptr<const Session> m_pendingSession;   // waiting for its study to be segmented
    std::shared_ptr<const Session> m_restoringSession; // its lesion or aggregation results to show
    bool m_restoringLesions = false, m_restoringAggregation = false;
    std::array<bool, kMaxPanels> m_displayFromSession{}; // keep a restored panel's display
    uint64_t m_explanationGeneration = 0;
    StudyRequest m_request;
    ViewerState m_viewer;
    std::optional<DropChoice> m_pendingDrop;
    std::optional<ChannelChoice> m_pendingChannels;
    std::optional<ChannelMatch> m_channelMatch;
    std::optional<SeriesChoice> m_pendingSeries;
    std::vector<std::string> m_errors;
    // Requests by job id, so a finished load knows what it loaded.
    std::vector<std::pair<uint64_t, StudyRequest>> m_inFlight;
    std::shared_ptr<const LesionAnalysis> m_lesions;
    uint64_t m_lesionGeneration = 0;
    int m_shownLesion = 0;
    std::optional<SyntheticLesion> m_synthetic;
    std::shared_ptr<const std::vector<SyntheticDetection>> m_sweep;
    std::shared_ptr<const LoadedStudy> m_unpainted; // the study before its synthetic lesion
    std::shared_ptr<const Aggregation> m_aggregation;
    std::shared_ptr<const Benchmark> m_benchmark;
};

// True for TorchScript files (.pt, .ts, .pth) and MONAI bundle folders.
bool isModelPath(const std::string& path);

// True for file names that look like label maps (ground truth): *seg*, *label*, *mask*, *gt*.
bool looksLikeLabelMap(const std::string& path);

} // namespace segxai::app
