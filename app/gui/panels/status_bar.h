#pragma once
#include "app/gui/panels/log_panel.h"
#include "app/gui/state/document.h"

namespace segxai::app {

// Bottom bar: running jobs with progress, stage and Cancel; warnings count (opens the log);
// the device the engine computes on.
void drawStatusBar(Document& document, LogPanel& log, bool& showLog, const std::string& deviceDescription);

} // namespace segxai::app
