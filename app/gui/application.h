#pragma once
#include "app/gui/explain_panel.h"
#include "app/gui/file_dialog.h"
#include "app/gui/instances_panel.h"
#include "app/gui/gpu_scene.h"
#include "app/gui/gui_options.h"
#include "app/gui/log_panel.h"
#include "app/gui/viewer_panel.h"
#include "app/gui/workspace.h"
#include "engine/job_runner.h"
#include "render/font_atlas.h"
#include "render/shader_library.h"
#include "render/slice_renderer.h"
#include "render/volume_renderer.h"

#include <memory>
#include <string>
#include <vector>

struct GLFWwindow;

namespace segxai::app {

// The desktop application: one GLFW window, ImGui panels, the engine's job runner. Renders
// on demand: an idle window sleeps in glfwWaitEvents.
class Application {
public:
    explicit Application(GuiOptions options);
    ~Application();
    int run();

private:
    bool initialise();
    void frame();
    void drawMenuBar();
    void drawPanels();
    void drawDialogs();
    void handleAutomation();
    void startRequestedExplanation();
    void captureScreenshots();
    std::vector<std::string> inputPaths() const;
    void requestWindowScreenshot(const std::string& path) { m_windowShotPath = path; }
    void saveView(int view, const std::string& path);

    GuiOptions m_options;
    GLFWwindow* m_window = nullptr;
    std::unique_ptr<JobRunner> m_jobs;
    std::unique_ptr<Workspace> m_workspace;
    std::unique_ptr<render::ShaderLibrary> m_shaders;
    std::unique_ptr<render::FontAtlas> m_font;
    std::unique_ptr<render::SliceRenderer> m_sliceRenderer;
    std::unique_ptr<render::VolumeRenderer> m_volumeRenderer;
    GpuScene m_gpu;
    ViewerPanel m_viewer;
    LogPanel m_log;
    FileDialog m_fileDialog;
    ExplainPanel m_explainPanel;
    InstancesPanel m_instancesPanel;
    bool m_showLog = false;
    bool m_showControls = false;
    std::vector<std::string> m_dropped;
    std::vector<std::string> m_errors;
    std::string m_windowShotPath;
    int m_framesWithStudy = 0;
    bool m_automationDone = false;
    bool m_explanationStarted = false;
    uint64_t m_crosshairStudy = 0;
    int m_exitStatus = 0;
    std::string m_title;

    friend void onDrop(GLFWwindow*, int, const char**);
};

} // namespace segxai::app
