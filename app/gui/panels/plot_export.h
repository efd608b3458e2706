#pragma once
#include "app/gui/panels/file_dialog.h"
#include "app/gui/panels/plots.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace segxai::app {

// Saving a panel's plots: "PNG" (the plot exactly as drawn, read back from the window once it
// has been scrolled into view) and "CSV" buttons under each, and the same by name for scripts.
// One per panel; the application collects the window regions to read back every frame.
class PlotExport {
public:
    struct Capture {
        std::string path;
        plots::Rect rect;
    };
    // Call at the start of the panel's drawing.
    void beginFrame() {
        m_shown.clear();
        m_large.clear();
    }
    // The buttons under a plot drawn this frame at `rect`; `name` is the files' default name.
    // With `large` (which draws the plot again in the space it is given), "Enlarge" opens it in
    // a window of its own, with room for full names.
    using Draw = std::function<void(ImVec2 size)>;
    void buttons(const char* id, const plots::Rect& rect, const std::string& name, const std::string& csv,
                 FileDialog& files, std::string& message, Draw large = {});
    // The enlarged plot's window; call at the end of the panel's drawing.
    void drawEnlarged();
    // A CSV-only or PNG-only pair of buttons is not needed: pass an empty csv to hide "CSV".
    bool request(const std::string& id, const std::string& path); // false: that plot is not on screen
    std::vector<Capture> take() { return std::exchange(m_captures, {}); }
    bool busy() const { return !m_pending.empty() || !m_captures.empty(); }

private:
    struct Pending {
        std::string id, path;
        int frames = 3; // scrolled into view first, captured where it then is
    };
    std::map<std::string, plots::Rect> m_shown;
    std::map<std::string, Draw> m_large; // this frame's way to draw each plot large
    std::string m_enlarged;              // the plot in its own window ("" when none)
    std::vector<Pending> m_pending;
    std::vector<Capture> m_captures;
};

} // namespace segxai::app
