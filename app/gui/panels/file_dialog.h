#pragma once
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace segxai::app {

// A modal file browser drawn with ImGui (Debian's ImGui has none): navigate folders, pick one
// or several files, pick the current folder (DICOM series), or type a name to save.
class FileDialog {
public:
    enum class Mode { Open, Save };
    using Accept = std::function<void(const std::vector<std::string>& paths)>;
    using Filter = std::function<bool(const std::filesystem::path&)>;

    void open(std::string title, Mode mode, Accept accept, Filter filter = {}, std::string defaultName = {},
              bool allowFolder = false);
    void draw();

private:
    void refresh();
    void accept(const std::vector<std::string>& paths);

    std::string m_title;
    Mode m_mode = Mode::Open;
    Accept m_accept;
    Filter m_filter;
    bool m_allowFolder = false;
    bool m_visible = false;
    bool m_openRequested = false;
    std::filesystem::path m_folder;
    std::vector<std::filesystem::directory_entry> m_entries;
    std::set<std::string> m_selected;
    std::string m_pathInput;
    std::string m_nameInput;
    std::string m_message;
    std::string m_confirmOverwrite;
};

} // namespace segxai::app
