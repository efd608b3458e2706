#pragma once
#include <filesystem>
#include <functional>
#include <map>
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

    // `kind` names what the dialog is for ("study", "model", "session", "picture", "volume",
    // "folder"): each kind starts in the folder it was last used in.
    void open(std::string title, std::string kind, Mode mode, Accept accept, Filter filter = {},
              std::string defaultName = {}, bool allowFolder = false);
    void draw();

    bool visible() const { return m_visible; }
    // The last folder of each kind (kept in the user's settings between runs).
    const std::map<std::string, std::string>& folders() const { return m_folders; }
    void setFolders(std::map<std::string, std::string> folders) { m_folders = std::move(folders); }

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
    std::string m_kind;
    std::map<std::string, std::string> m_folders;
    std::vector<std::filesystem::directory_entry> m_entries;
    std::set<std::string> m_selected;
    std::string m_pathInput;
    std::string m_nameInput;
    std::string m_message;
    std::string m_confirmOverwrite;
};

} // namespace segxai::app
