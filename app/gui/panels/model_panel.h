#pragma once
#include "app/gui/state/workspace.h"

namespace segxai::app {

// The model tab: what the card says, the classes with colours, visibility and volumes,
// Segment, the overlays of labels and probabilities, and the layer catalogue.
void drawModelPanel(Workspace& workspace);

} // namespace segxai::app
