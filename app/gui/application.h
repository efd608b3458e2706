#pragma once
#include "app/gui/automation/frame_benchmark.h"
#include "app/gui/automation/frame_log.h"
#include "app/gui/gui_options.h"
#include "app/gui/panels/aggregation_panel.h"
#include "app/gui/panels/explain_panel.h"
#include "app/gui/panels/file_dialog.h"
#include "app/gui/panels/instances_panel.h"
#include "app/gui/panels/lesions_panel.h"
#include "app/gui/panels/log_panel.h"
#include "app/gui/panels/uncertainty_panel.h"
#include "app/gui/state/document.h"
#include "app/gui/state/gui_settings.h"
#include "app/gui/views/figure.h"
#include "app/gui/views/gpu_scene.h"
#include "app/gui/views/viewer_panel.h"
#include "engine/core/job_runner.h"
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

    // Commands: what menus, drops and scripts ask for. UI thread; a failure becomes a
    // message (and exit status 1 in automation), never an exception.
    void dropPaths(const std::vector<std::string>& paths);
    void openSessionFile(const std::string& path);
    void saveSessionFile(const std::string& path);
    void saveWindowScreenshot(const std::string& path); // at the end of this frame
    // The viewer's layout (the panel grid) or one view, at any size (0: as on screen).
    void saveFigure(const std::string& path, int width = 0, int height = 0);
    void saveViewImage(int panel, int view, const std::string& path, int width = 0, int height = 0);
    void exportMap(int panel, const std::string& path);
    void exportSegmentation(const std::string& path);
    void compare(const std::vector<std::string>& methods);
    void pickVoxel(const Index3& voxel);
    bool moveCrosshair(const Index3& voxel); // false (and a message) outside the study
    void setLayer(const std::string& layer); // every panel's CAM layer
    void explainSelectedInstance();
    void explainTarget(const std::string& targetSpec);  // every panel
    void setLayout(bool compare, int view);             // view -1: keep
    void analyseLesions(int samples, double contextMm); // the Lesions tab's analysis, its settings otherwise default
    void showLesion(int id);
    void saveLesionPlot(const std::string& plot, const std::string& path); // the Lesions tab must be shown
    void saveLesionAnalysis(const std::string& folder);
    void aggregate(Method method);
    void showAggregation(const std::string& className, const std::string& segmentName);
    void benchmark(const std::vector<Method>& methods, const std::vector<Metric>& metrics);
    // The ensemble's uncertainty: options "flips[:AXES]", "intensity:N", "spatial:N", "stability", "mc-dropout:N", and
    // model paths (more members).
    void runUncertainty(const std::vector<std::string>& options);
    // An uncertainty map in panel A: entropy, mutual-information, disagreement, expected-entropy,
    // explanation-mean, explanation-std.
    void showUncertainty(const std::string& map);
    void fadeByCertainty(bool on);
    void compareModels(const std::vector<std::string>& paths);
    void showDisagreement(int row); // 1: the least agreeing class
    void paintSyntheticLesion(double radiusMm, const std::vector<double>& contrast, double edgeMm);
    void removeSyntheticLesion();
    void quit(int status);
    // Prints the frame times since the last call (FrameLog) to standard output and the log.
    void reportFrameTimes();
    // Nothing loading, computing, on its way to the GPU, or waiting in the inbox.
    bool quiescent() const;
    void reportError(const std::string& message);

private:
    bool initialise();
    void frame();
    void drawMenuBar();
    void drawFileMenu();
    void drawExportMenu();
    void drawViewMenu();
    void handleShortcuts();
    void openStudyDialog();
    void openModelDialog();
    void saveSessionDialog();
    void exportFigureDialog();
    // Default file names that say what a file is.
    std::string studyStem() const;
    std::string figureStem() const;
    // Quits, or first asks when results would be lost (not in a saved session).
    void requestQuit();
    // Several models given together: the first opens, the others become members of its ensemble
    // (the Uncertainty tab); returns the paths without them.
    std::vector<std::string> withoutEnsembleMembers(const std::vector<std::string>& paths);
    void drawPanels();
    void drawSidePanel(float width, float height);
    void drawSideSplitter(const ImVec2& origin, float height, float maximum);
    void drawDialogs();
    void drawChannelChoice();
    void drawQuitConfirmation();
    void drawControls();
    void handleAutomation();
    void driveBenchmark(); // starts the frame benchmark once settled, then moves the view each frame
    void startRequestedExplanation();
    void startDemoUncertainty();
    void captureScreenshots();
    ImVec2 cellSize(int view) const;

    GuiOptions m_options;
    GLFWwindow* m_window = nullptr;
    std::unique_ptr<JobRunner> m_jobs;
    std::unique_ptr<Document> m_document;
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
    LesionsPanel m_lesionsPanel;
    AggregationPanel m_aggregationPanel;
    UncertaintyPanel m_uncertaintyPanel;
    // Parts of the window to save once this frame is drawn (plots).
    struct RegionCapture {
        std::string path;
        plots::Rect rect;
    };
    std::vector<RegionCapture> m_regionCaptures;
    bool m_showLog = false;
    bool m_showControls = false;
    bool m_confirmQuit = false;  // the quit confirmation is open
    uint64_t m_savedResults = 0; // Document::resultsRevision() of the last saved session
    std::vector<std::string> m_dropped;
    std::vector<std::string> m_errors;
    std::vector<int> m_channelChoiceOrder; // per model input: the file chosen for it
    std::string m_windowShotPath;
    int m_windowShotFrames = 0; // frames to wait before capturing the window
    bool m_popupWasOpen = false;
    int m_redrawFrames = 0; // frames to draw without waiting for events (dialogs sizing)
    GuiSettings m_settings;
    std::string m_settingsPath; // empty: a scripted or headless run, which keeps no settings
    bool m_automated = false;   // scripted, headless or --quit: nobody to ask
    bool m_resizingSide = false;
    int m_framesWithStudy = 0;
    bool m_automationDone = false;
    bool m_explanationStarted = false;
    bool m_demoUncertaintyPending = false;
    uint64_t m_crosshairStudy = 0;
    int m_exitStatus = 0;
    std::string m_title;
    ImVec2 m_viewerSize{1, 1}; // the viewer area on screen
    int m_exportScale = 1;     // figures saved from the menu: times the on-screen size
    std::unique_ptr<FigureRenderer> m_figures;
    std::unique_ptr<class ScriptRunner> m_script;
    std::unique_ptr<FrameBenchmark> m_benchmark;
    FrameLog m_frameLog;
    bool m_benchmarkRunning = false;
    int m_benchmarkSettledFrames = 0;
    int m_scriptSettledFrames = 0;

    friend void onDrop(GLFWwindow*, int, const char**);
};

} // namespace segxai::app
