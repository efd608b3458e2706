#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/state/document.h"

#include <string>

namespace segxai::app {

// The Explain tab: comparison panels (each its method, layer, parameters and optionally its
// own model), the shared target (a class, the instance under the crosshair, a box drawn on a
// slice, ...), Explain; then each panel's results, their figures and display, and export.
class ExplainPanel {
public:
    void draw(Document& document, FileDialog& files);
    // The target the tab describes (throws segxai::Error when it is incomplete, e.g. no box).
    static TargetSpec currentTarget(const Workspace& workspace);

private:
    void drawPanels(Document& document);
    void drawMethod(Document& document, Panel& panel, FileDialog& files);
    void drawParameters(Panel& panel);
    void drawTarget(Document& document);
    void drawResults(Document& document, FileDialog& files);
    void drawFigures(Document& document);

    std::string m_error;
};

} // namespace segxai::app
