#pragma once
#include "app/gui/file_dialog.h"
#include "app/gui/plots.h"
#include "app/gui/workspace.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segxai::app {

// The Lesions tab: the lesion-level analysis of the open study (engine/lesion_report.h).
// Settings and "Analyse lesions"; lesion-wise figures and the MS study's findings; a table of
// lesions (group, size, probability, peak saliency, context) where a click moves every view
// to the lesion and shows its maps; for the chosen lesion, its saliency inside and in rings
// and its context curve; peak saliency per group as box plots with test p-values; a synthetic
// lesion painted at the crosshair and a size x contrast sweep. Plots save as PNG (exactly as
// drawn) and CSV.
class LesionsPanel {
public:
    void draw(Workspace& workspace, FileDialog& files);

    // A picture of part of the window the panel asked for: the application reads it back
    // once the frame is drawn.
    struct Capture {
        std::string path;
        plots::Rect rect;
    };
    std::vector<Capture> takeCaptures() { return std::exchange(m_captures, {}); }
    // Saves the plot last drawn under `name` ("rings", "context", "groups") as PNG; false when
    // it is not on screen.
    bool capturePlot(const std::string& name, const std::string& path);
    bool capturing() const { return !m_pendingPlots.empty() || !m_captures.empty(); }

private:
    void drawSettings(Workspace& workspace);
    void drawSummary(const LesionAnalysis& analysis);
    void drawTable(Workspace& workspace, const LesionAnalysis& analysis);
    void drawLesion(Workspace& workspace, const LesionAnalysis& analysis, FileDialog& files);
    void drawGroups(const LesionAnalysis& analysis, FileDialog& files);
    void drawSynthetic(Workspace& workspace);
    // "PNG" and "CSV" buttons under a plot.
    void exportButtons(const char* id, const plots::Rect& rect, const std::string& name, std::string csv, FileDialog& files);

    LesionAnalysisOptions m_options;
    bool m_optionsSet = false;
    int m_method = 0;  // index into the analysis' methods
    int m_channel = 0;
    int m_statistic = 1; // 0: maximum, 1: maximum magnitude
    uint64_t m_seenGeneration = 0;
    SyntheticLesion m_synthetic;
    std::string m_sweepRadii = "1.5, 2, 3, 4, 6";
    std::string m_sweepContrasts = "0.25, 0.5, 1, 1.5";
    std::vector<Capture> m_captures;
    std::map<std::string, plots::Rect> m_shownPlots; // this frame's plots by name
    // Plots to save: scrolled into view first, captured a few frames later where they are then.
    struct PendingPlot {
        std::string name, path;
        int frames = 3;
    };
    std::vector<PendingPlot> m_pendingPlots;
    std::string m_message;
};

} // namespace segxai::app
