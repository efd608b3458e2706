#include "app/gui/state/gui_settings.h"

#include "engine/core/log.h"
#include "engine/io/atomic_file.h"
#include "engine/io/json_text.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace segxai::app {

std::string settingsPath() {
    if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
        return (fs::path(config) / "segxai" / "settings.json").string();
    }
    if (const char* home = std::getenv("HOME"); home && *home) {
        return (fs::path(home) / ".config" / "segxai" / "settings.json").string();
    }
    return "";
}

GuiSettings GuiSettings::load(const std::string& path) {
    GuiSettings s;
    std::error_code ec;
    if (path.empty() || !fs::exists(path, ec)) return s;
    try {
        const nlohmann::json j = readJsonFile(path, "settings");
        if (auto it = j.find("side_panel_width"); it != j.end() && it->is_number()) {
            s.sidePanelWidth = it->get<float>();
        }
        if (auto it = j.find("overlay_legend"); it != j.end() && it->is_boolean()) s.overlayLegend = it->get<bool>();
        if (auto it = j.find("folders"); it != j.end() && it->is_object()) {
            for (const auto& [kind, folder] : it->items()) {
                if (folder.is_string()) s.folders[kind] = folder.get<std::string>();
            }
        }
    } catch (const std::exception& e) {
        logWarning("{}: ignored ({})", path, e.what());
    }
    return s;
}

void GuiSettings::save(const std::string& path) const {
    if (path.empty()) return;
    try {
        std::error_code ec;
        fs::create_directories(fs::path(path).parent_path(), ec);
        const nlohmann::json j = {
            {"side_panel_width", sidePanelWidth}, {"overlay_legend", overlayLegend}, {"folders", folders}};
        writeFileAtomically(path, readableJson(j) + "\n");
    } catch (const std::exception& e) {
        logWarning("settings not saved: {}", e.what());
    }
}

} // namespace segxai::app
