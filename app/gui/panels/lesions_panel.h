#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/panels/plot_export.h"
#include "app/gui/panels/plots.h"
#include "app/gui/state/document.h"

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
    void draw(Document& document, FileDialog& files);

    PlotExport& plots() { return m_plots; }

private:
    void drawSettings(Document& document);
    void drawSummary(const LesionAnalysis& analysis);
    void drawTable(Document& document, const LesionAnalysis& analysis);
    void drawUncertaintyGroups(const LesionUncertainty& uncertainty);
    void drawLesion(Document& document, const LesionAnalysis& analysis, FileDialog& files);
    void drawGroups(const LesionAnalysis& analysis, FileDialog& files);
    void drawSynthetic(Document& document);

    LesionAnalysisOptions m_options;
    bool m_optionsSet = false;
    int m_method = 0; // index into the analysis' methods
    int m_channel = 0;
    int m_statistic = 1; // 0: maximum, 1: maximum magnitude
    uint64_t m_seenGeneration = 0;
    SyntheticLesion m_synthetic;
    std::string m_sweepRadii = "1.5, 2, 3, 4, 6";
    std::string m_sweepContrasts = "0.25, 0.5, 1, 1.5";
    PlotExport m_plots;
    std::string m_message;
};

} // namespace segxai::app
