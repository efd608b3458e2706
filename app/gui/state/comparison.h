#pragma once
#include "app/gui/state/workspace.h"
#include "engine/analysis/aggregation.h"
#include "engine/explain/explanation.h"
#include "engine/explain/target.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// Figures of one map the engine thread worked out for display and comparison.
struct MapFigures {
    float extent = 1.0f;         // robust extent: 99.5th percentile of |value| over non-zero voxels
    std::string extentName;      // what the extent is when not that ("ln 2, the most"; uncertainty maps)
    float negativeExtent = 1.0f; // ... of |value| over the negative voxels (extent when none)
    float minimum = 0.0f;
    float maximum = 0.0f;
    double absoluteSum = 0.0;   // sum of |value|
    double shareInTarget = 0.0; // share of sum |value| on the target's voxels
};

// Where a panel's maps came from, so that a session can make them again: an explanation of
// a target, a lesion's maps from the lesion analysis, or a cell of the Agg2Exp matrix. The
// ensemble's uncertainty maps and its members' explanations of one target (stability) are
// not kept in sessions: they need the ensemble run again.
struct MapSource {
    enum class Kind { Explanation, Lesion, AggregationCell, Uncertainty, Stability };
    Kind kind = Kind::Explanation;
    TargetSpec target;                                // Explanation
    int lesion = 0;                                   // Lesion: its id in the lesion analysis
    int row = 0;                                      // AggregationCell: the matrix row (target class) ...
    int segment = -1;                                 // ... restricted to this segment (-1: the whole map)
    AttributionPart part = AttributionPart::Absolute; // ... segments shaded by this part's mass
};
inline MapSource sourceOf(MapSource::Kind kind) {
    MapSource source;
    source.kind = kind;
    return source;
}

// Explanations of one target, as one comparison panel holds them.
struct ExplanationSet {
    std::vector<Explanation> items;
    std::vector<std::vector<MapFigures>> figures; // per item, per map
    std::vector<std::string> titles;              // per item; empty: the item's method title
    std::string targetDescription;
    MapSource source;
    uint64_t segmentationGeneration = 0; // the segmentation they explain
    double seconds = 0.0;
};

// The explanations of one target with the figures the panels show (maps on one grid). Runs
// on the engine thread: it reads every voxel.
std::shared_ptr<ExplanationSet> makeExplanationSet(std::vector<Explanation> items, const Target& target,
                                                   const Geometry& studyGrid, MapSource source,
                                                   uint64_t segmentationGeneration);

// What item `item` of a set shows ("Seg-Grad-CAM", "mutual information").
std::string itemTitle(const ExplanationSet& set, size_t item);

// The map a panel shows: its display's explanation and channel, clamped to what the set holds.
struct ShownMap {
    const Explanation& explanation;
    const ExplanationMap& map;
    const MapFigures& figures;
    size_t item = 0;
    size_t channel = 0;
};
std::optional<ShownMap> shownMap(const ExplanationSet& set, const MapDisplay& display);

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
    std::string modelPath;                       // empty: the workspace's model
    std::shared_ptr<const LoadedModel> ownModel; // loaded modelPath
    std::shared_ptr<const ExplanationSet> result;
    uint64_t generation = 0;                 // moves whenever result changes
    std::optional<TargetSpec> pendingTarget; // explain once ownModel has loaded
};

// The comparison panels (1 to kMaxPanels; panel A always exists), their explanations and
// the difference view of A and B. Results made on a replaced segmentation are dropped.
class Comparison {
public:
    explicit Comparison(Workspace& workspace) : m_workspace(workspace) {}

    const std::vector<Panel>& panels() const { return m_panels; }
    // Methods and parameters of a panel (what Explain uses next).
    Panel& panel(int index) { return m_panels.at(size_t(index)); }
    void setPanelCount(int count);
    // Loads a model for one panel only (empty path: back to the workspace's model).
    void setPanelModel(int panel, const std::string& path);
    // Explains the segmentation (engine thread) for one panel, or for every panel with the
    // same target; needs a study, a model and a segmentation.
    void explain(int panel, const TargetSpec& target);
    void explainAll(const TargetSpec& target);
    bool explaining() const;
    // Shows maps made elsewhere (a lesion's, an Agg2Exp cell's) in a panel. The display is
    // set up for them unless the next result keeps the display as it is (a restored session).
    void show(int panel, std::shared_ptr<const ExplanationSet> set);
    void keepDisplayOnce(int panel) { m_keepDisplay.at(size_t(panel)) = true; }
    std::optional<ShownMap> shownMap(int panel) const;
    // Moves whenever what a panel shows changes: its result, or the map shown from it.
    uint64_t shownGeneration(int panel) const { return m_shown.at(size_t(panel)).generation; }

    // What a panel's maps explain, in a few words ("lesion 3", "class lesion", "occipital in
    // frontal"), and whether they explain a structure other than the one picked now.
    std::string targetLabel(int panel) const;
    bool explainsAnotherStructure(int panel) const;
    // A file name (no extension) that says what a panel shows: "A_seg-hires-grad-cam_lesion3_flair".
    std::string fileStem(int panel) const;

    // Writes the map a panel shows as NIfTI in the study's grid (on the engine thread); never
    // over an input file.
    void exportShownMap(int panel, const std::string& path);

    // Pearson correlation of a panel's shown map with panel A's (computed on the engine thread
    // when either changes; nullopt until then).
    std::optional<double> correlationWithA(int panel) const;

    // Keeps the difference view of panels A and B current.
    const std::shared_ptr<const DifferenceView>& difference() const { return m_difference; }
    uint64_t differenceGeneration() const { return m_differenceGeneration; }

    // Once per frame: drops results of a replaced segmentation, updates the difference view.
    void update();

private:
    void adopt(int panel, std::shared_ptr<const ExplanationSet> set);
    void updateDifference();
    void updateCorrelations();

    // What each panel showed at the last update, and its generation.
    struct Shown {
        const ExplanationSet* set = nullptr;
        size_t item = 0, channel = 0;
        uint64_t generation = 1;
    };

    Workspace& m_workspace;
    std::vector<Panel> m_panels{Panel{}};
    std::array<Shown, kMaxPanels> m_shown{};
    // Per panel: the shown generations of A and the panel its correlation was computed for.
    struct Correlation {
        uint64_t generationA = 0, generation = 0;
        std::optional<double> value;
    };
    std::array<Correlation, kMaxPanels> m_correlations{};
    std::array<bool, kMaxPanels> m_keepDisplay{};
    // What the difference view was made from: the panels' results and shown maps.
    struct DifferenceInputs {
        uint64_t generationA = 0, generationB = 0;
        size_t itemA = 0, channelA = 0, itemB = 0, channelB = 0;
        bool ranks = false;
        bool operator==(const DifferenceInputs&) const = default;
    };
    std::shared_ptr<const DifferenceView> m_difference;
    uint64_t m_differenceGeneration = 0;
    std::optional<DifferenceInputs> m_differenceInputs;
};

} // namespace segxai::app
