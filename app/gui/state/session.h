#pragma once
#include "app/gui/state/comparison.h"
#include "app/gui/state/uncertainty_work.h"
#include "app/gui/state/viewer_state.h"
#include "engine/analysis/aggregation.h"
#include "engine/analysis/lesion_report.h"
#include "engine/analysis/synthetic_lesion.h"
#include "engine/io/study.h"
#include "engine/model/nnunet_plans.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

class Document;

// A saved session: what to load (study, model, a painted synthetic lesion), what each panel
// shows (an explanation of a target, a lesion's maps, a cell of the Agg2Exp matrix, an
// uncertainty map), the
// analyses those came from, and how it was shown (the whole view state), so that opening it
// computes again what is needed and gives the same picture.
// Stored as JSON (extension .segxai): {"segxai_session": 1, ...}.
struct Session {
    StudyRequest study;
    std::string model;
    NnunetOptions nnunet;                     // an nnU-Net model's folds, checkpoint, configuration, mirroring
    std::optional<SyntheticLesion> synthetic; // painted into the study before segmenting
    struct PanelEntry {
        std::vector<Method> methods;
        ExplainParameters parameters;
        std::string modelPath;
        bool explained = false;
        MapSource::Kind shows = MapSource::Kind::Explanation; // what its maps are, when explained
    };
    std::vector<PanelEntry> panels;
    std::string targetSpec; // the explained target ("" when none)
    struct LesionEntry {
        LesionAnalysisOptions options;
        int shown = 0; // the lesion picked in the table (0: none)
    };
    std::optional<LesionEntry> lesions; // a lesion analysis to run again
    struct AggregationEntry {
        Method method = Method::Saliency;
        ExplainParameters parameters;
        int row = -1, segment = -1; // the cell shown (row -1: none)
        AttributionPart part = AttributionPart::Absolute;
    };
    std::optional<AggregationEntry> aggregation; // an Agg2Exp aggregation to run again
    struct UncertaintyEntry {
        UncertaintySettings settings;
        int panel = -1, map = -1; // the panel showing one of its maps, and which (-1: none)
    };
    std::optional<UncertaintyEntry> uncertainty; // an ensemble's uncertainty to run again
    std::optional<Index3> selectedVoxel;         // a voxel of the picked structure
    nlohmann::json view;                         // ViewerState, applied with applyViewState()
};

// The document's current session as JSON.
nlohmann::json sessionToJson(const Document& document);
// Reads a session; relative paths are taken relative to the session file's folder. Throws
// segxai::Error naming the file and field on malformed content.
Session readSession(const std::string& path);
Session sessionFromJson(const nlohmann::json& json, const std::string& origin, const std::string& folder = {});
// Writes the session atomically; never over an input file.
void saveSession(const Document& document, const std::string& path);
// Applies a saved view state onto `state` (fields missing or of the wrong type are skipped).
void applyViewState(const nlohmann::json& view, ViewerState& state);
nlohmann::json viewStateToJson(const ViewerState& state);

// A file is a session when its name ends in .segxai (or it is JSON holding "segxai_session").
bool isSessionPath(const std::string& path);

} // namespace segxai::app
