#pragma once
#include <string>

namespace segxai::app {

// The assets folder (demo models, screenshots): the source tree's when the binary runs from
// its build folder, else beside the installed binary (../share/segxai/assets).
std::string assetFolder();

// Where generated demo studies are kept: $XDG_CACHE_HOME/segxai/demo, ~/.cache/segxai/demo,
// or the temporary folder.
std::string demoCacheFolder();

} // namespace segxai::app
