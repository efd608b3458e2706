#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/state/document.h"

#include <string>
#include <vector>

namespace segxai::app {

// The Uncertainty tab: the ensemble (the open model's folds, more models, flips, MC dropout)
// run on the study; its maps shown in a panel in their own colour map; the fade of explanations
// where it is unsure; the most uncertain structures (linked to the views) and, with a ground
// truth, true against false positives; the stability of one explanation across members; and
// other model versions compared with the open one, structure by structure.
class UncertaintyPanel {
public:
    void draw(Document& document, FileDialog& files);

private:
    void drawSettings(Document& document, FileDialog& files);
    void drawMaps(Document& document, const UncertaintyWork::Result& result, FileDialog& files);
    void drawStructures(Document& document, const UncertaintyWork::Result& result);
    void drawStability(Document& document, const UncertaintyWork::Result& result);
    void drawModelComparison(Document& document, FileDialog& files);
    void drawComparisonTable(Document& document, const ModelComparisonWork::Result& result);

    UncertaintySettings m_settings;
    int m_panel = 0; // where maps are shown
    std::vector<std::string> m_otherModels;
    std::string m_message;
};

} // namespace segxai::app
