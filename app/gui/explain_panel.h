#pragma once
#include "app/gui/file_dialog.h"
#include "app/gui/workspace.h"

#include <string>

namespace segxai::app {

// The Explain tab: method, layer, target (a class, the instance under the crosshair, a box
// drawn on a slice, ...), parameters, Run; then the results, their display and export.
class ExplainPanel {
public:
    void draw(Workspace& workspace, FileDialog& files);

private:
    enum class TargetKind { ClassRegion, Instance, GroundTruthInstance, Box, Voxel, Channel };
    bool drawSetup(Workspace& workspace);
    void drawParameters();
    void drawResults(Workspace& workspace, FileDialog& files);
    ExplainChoice choice(const Workspace& workspace) const;

    int m_method = 0;             // index into allMethods(); -1: all gradient methods
    std::string m_layer;
    TargetKind m_target = TargetKind::ClassRegion;
    int m_class = 1;
    bool m_useThreshold = false;
    float m_threshold = 0.5f;
    ExplainParameters m_parameters;
    int m_baseline = 0;           // zero, min, blur
    std::string m_error;
    uint64_t m_shownGeneration = 0; // results the setup was last synchronised with
};

} // namespace segxai::app
