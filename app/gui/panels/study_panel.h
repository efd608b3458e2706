#pragma once
#include "app/gui/state/document.h"

namespace segxai::app {

// Left-hand panel: the study's channels (which one is shown, its window), the ground-truth
// overlay, display options, and the readout under the cursor.
void drawStudyPanel(Document& document);

} // namespace segxai::app
