#pragma once
#include <map>
#include <string>

namespace segxai::app {

// What the viewer remembers between runs: the side panel's width and the last folder of each
// kind of file. Stored as JSON in $XDG_CONFIG_HOME/segxai/settings.json (else
// ~/.config/segxai/settings.json). Scripted and headless runs neither read nor write it, so
// they stay reproducible.
struct GuiSettings {
    float sidePanelWidth = 430.0f;
    std::map<std::string, std::string> folders;
    bool overlayLegend = true; // the legend of ground-truth and model overlays in the views

    // Defaults for a missing file; a damaged one is logged and ignored.
    static GuiSettings load(const std::string& path);
    // Written atomically; a failure is logged, never thrown (settings are not worth an error).
    void save(const std::string& path) const;
};

// The settings file's path ("" when neither XDG_CONFIG_HOME nor HOME is set).
std::string settingsPath();

} // namespace segxai::app
