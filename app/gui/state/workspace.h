#pragma once
#include "app/gui/state/loaded_model.h"
#include "app/gui/state/loaded_study.h"
#include "app/gui/state/messages.h"
#include "app/gui/state/viewer_state.h"
#include "engine/core/job_runner.h"
#include "engine/explain/instances.h"
#include "engine/io/channel_matching.h"
#include "engine/io/image_io.h"
#include "engine/io/study.h"
#include "engine/model/segmentation.h"

#include <functional>
#include <glm/glm.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// The open study, model and segmentation, the view they are shown in, and the commands that
// change them. Commands post jobs to the engine; their results arrive, typed, when the
// document drains the job runner once per frame. The other features (comparison panels,
// lesions, aggregation: app/gui/state/document.h) follow the segmentation's generation and
// drop what they computed on a replaced one. UI thread only.
class Workspace {
public:
    Workspace(JobRunner& jobs, Messages& messages) : m_jobs(jobs), m_messages(messages) {}

    // Replaces the study once the new one has loaded; the current one stays open on failure.
    void openStudy(StudyRequest request);
    // Reloads the current study with these extra channels / this ground truth.
    void addChannels(const std::vector<std::string>& paths);
    void loadGroundTruth(const std::string& path);
    // Paths dropped on the window or given on the command line: opens them as a study when
    // none is open, otherwise asks (see pendingDrop) how to use them.
    void openPaths(const std::vector<std::string>& paths);
    // The lesion demo: its held-out study (generated into `cacheFolder` on first use) and
    // the demo model at `modelPath` (`nnunet`: how its nnU-Net folder is read).
    void openDemo(const std::string& cacheFolder, const std::string& modelPath, const NnunetOptions& nnunet = {});
    // Loads a TorchScript file or MONAI bundle folder; the current model stays on failure.
    // `nnunet` chooses folds, checkpoint, configuration and mirroring of an nnU-Net folder.
    void openModel(const std::string& path, const NnunetOptions& nnunet = {});
    // Segments the open study with the open model (engine thread).
    void segment();
    bool autoSegment = true; // segment when a study or a model arrives
    // A DICOM folder of several series asks which (pendingSeriesChoice); otherwise (scripted
    // and headless runs) the largest is read, and the log says so.
    bool askForSeries = true;
    // The same files and grid with other voxels (a painted synthetic lesion): segmented again.
    void replacePixels(std::shared_ptr<const LoadedStudy> loaded);

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

    const std::shared_ptr<const LoadedStudy>& study() const { return m_study; }
    // A load was requested and its result has not arrived yet.
    bool loading() const { return m_loadInFlight.has_value(); }
    bool loadingModel() const;
    bool segmenting() const;
    // Moves whenever the study's voxels change (a load, a painted lesion).
    uint64_t studyGeneration() const { return m_studyGeneration; }
    const StudyRequest& studyRequest() const { return m_request; }
    // The files outputs must never replace: the study's channels and ground truth, the model.
    std::vector<std::string> inputPaths() const;
    const std::shared_ptr<const LoadedModel>& model() const { return m_model; }
    const std::shared_ptr<const Segmentation>& segmentation() const { return m_segmentation; }
    // The segmentation's connected structures (26-connected), found with it.
    const std::shared_ptr<const InstanceSet>& instances() const { return m_instances; }
    // The labels' shell normals for the 3D view (render/shell_normals.h), computed with the
    // segmentation on the engine thread so that the frame taking it over only uploads.
    const std::shared_ptr<const std::vector<glm::u8vec4>>& shellNormals() const { return m_shellNormals; }
    // Voxels of each class in the segmentation (counted with it, on the engine thread).
    const std::vector<size_t>& classVoxelCounts() const { return m_classVoxels; }
    // Moves whenever the segmentation is replaced or dropped: results computed on another
    // generation are stale.
    uint64_t segmentationGeneration() const { return m_segmentationGeneration; }

    // The open study, model and segmentation as one snapshot for a job. nullopt, and a message
    // "<what> needs a study, a model and its segmentation", when one is missing.
    struct Segmented {
        std::shared_ptr<const Study> study;
        std::shared_ptr<const Model> model;
        std::shared_ptr<const Segmentation> segmentation;
        uint64_t generation = 0; // the segmentation's
    };
    std::optional<Segmented> segmented(const std::string& what);

    // Selects the structure under the crosshair (none on background); steps through the list.
    void pickAtCrosshair();
    void selectInstance(int listIndex); // moves the crosshair to it
    int selectedListIndex() const;
    // The structure at a voxel (0: background or none).
    int32_t instanceAt(const Index3& voxel) const;
    // "lesion 3": a structure's class and its number in the Instances list ("" for none).
    std::string structureName(int32_t instanceId) const;

    ViewerState& viewer() { return m_viewer; }
    const ViewerState& viewer() const { return m_viewer; }
    JobRunner& jobs() { return m_jobs; }
    Messages& messages() { return m_messages; }

    // Dialog requests the UI answers (drop choice, DICOM series choice, channel order).
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
    std::optional<DropChoice>& pendingDrop() { return m_pendingDrop; }
    std::optional<SeriesChoice>& pendingSeriesChoice() { return m_pendingSeries; }
    std::optional<ChannelChoice>& pendingChannelChoice() { return m_pendingChannels; }

    // Hooks for what follows these events (session restore): a study loaded from files (the
    // view may have been reset), a segmentation arrived, a load failed.
    std::function<void()> onStudyLoaded;
    std::function<void()> onSegmented;
    std::function<void()> onLoadFailed;

private:
    struct SegmentResult {
        std::shared_ptr<const Segmentation> segmentation;
        std::shared_ptr<const InstanceSet> instances;
        double structureSeconds = 0.0; // finding the instances
        std::shared_ptr<const std::vector<glm::u8vec4>> shellNormals;
        std::shared_ptr<const LoadedModel> model; // with the catalogue for this study's shape
        std::vector<size_t> classVoxels;
    };

    void submitLoad(StudyRequest request);
    void adoptStudy(std::shared_ptr<const LoadedStudy> loaded, const StudyRequest& request);
    void adoptModel(std::shared_ptr<const LoadedModel> model);
    void adoptSegmentation(SegmentResult result);
    void dropSegmentation();
    // Matches the channels to the model; true when the study reloads or a choice is asked for
    // first (segment then).
    bool matchChannelsToModel();
    void segmentWhenReady();

    JobRunner& m_jobs;
    Messages& m_messages;
    std::shared_ptr<const LoadedStudy> m_study;
    uint64_t m_studyGeneration = 0;
    StudyRequest m_request;
    std::optional<uint64_t> m_loadInFlight; // the job id of the latest load
    std::shared_ptr<const LoadedModel> m_model;
    std::shared_ptr<const Segmentation> m_segmentation;
    std::shared_ptr<const std::vector<glm::u8vec4>> m_shellNormals;
    std::shared_ptr<const InstanceSet> m_instances;
    std::vector<size_t> m_classVoxels;
    uint64_t m_segmentationGeneration = 0;
    std::optional<ChannelMatch> m_channelMatch;
    ViewerState m_viewer;
    std::optional<DropChoice> m_pendingDrop;
    std::optional<SeriesChoice> m_pendingSeries;
    std::optional<ChannelChoice> m_pendingChannels;
};

// True for file names that look like label maps (ground truth): *seg*, *label*, *mask*, *gt*.
bool looksLikeLabelMap(const std::string& path);

} // namespace segxai::app
