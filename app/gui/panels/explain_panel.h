#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/state/workspace.h"

#include <map>
#include <string>

namespace segxai::app {

// The Explain tab: comparison panels (each its method, layer, parameters and optionally its
// own model), the shared target (a class, the instance under the crosshair, a box drawn on a
// slice, ...), Explain; then each panel's results, their figures and display, and export.
class ExplainPanel {
public:
    void draw(Workspace& workspace, FileDialog& files);
    // The target the tab describes (throws segxai::Error when it is incomplete, e.g. no box).
    static TargetSpec currentTarget(Workspace& workspace);

private:
    void drawPanels(Workspace& workspace);
    void drawMethod(Workspace& workspace, Panel& panel, FileDialog& files);
    void drawParameters(Panel& panel);
    void drawTarget(Workspace& workspace);
    void drawResults(Workspace& workspace, FileDialog& files);
    void drawFigures(Workspace& workspace);
    double correlation(const Workspace& workspace, int panel);

    std::string m_error;
    std::map<std::string, double> m_correlations; // by panel generations and shown maps
};

} // namespace segxai::app
