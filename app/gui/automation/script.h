#pragma once
#include <memory>
#include <string>
#include <vector>

namespace segxai::app {

class Application;

// A script of application commands, one per line, each run once the application is
// quiescent (nothing loading or computing) and has drawn a few frames: for end-to-end tests
// and reproducible figures. Paths may be quoted ("a b.nii.gz"); # starts a comment.
//   drop PATH...                 as if dropped on the window (studies, models, sessions)
//   compare METHOD...            one comparison panel per method (all-gradient: one panel)
//   layout tri|compare [axial|coronal|sagittal|3d]
//   crosshair I,J,K              move the crosshair (every view slices through it)
//   layer PATH                   the CAM layer of every panel
//   pick I,J,K                   click: crosshair there, the structure under it picked
//   explain-instance             explain the picked structure in every panel
//   analyse-lesions [SAMPLES [CONTEXT_MM]]  the Lesions tab's analysis (SmoothGrad, Seg-Grad-CAM++,
//                                context up to CONTEXT_MM; defaults 20 and 10)
//   show-lesion ID               views to that lesion, its maps in panel A
//   save-lesion-plot rings|context|groups PNG   a Lesions tab plot (the tab shown: --panel lesions)
//   save-plot NAME PNG           a plot of the Lesions or Aggregation tab (matrix, bars, deletion, ...)
//   aggregate METHOD             every class explained, the class x segment matrix
//   show-aggregation CLASS [SEGMENT]  that class's map (in that segment), segments shaded by its mass
//   benchmark METHODS METRICS    the faithfulness benchmark (comma-separated lists)
//   save-lesions FOLDER          the lesion analysis as segxai lesions writes it
//   uncertainty [flips[:AXES]] [intensity:N] [spatial:N] [stability] [mc-dropout:N] [MODEL...]
//                                the ensemble's uncertainty (the open model's folds and MODELs;
//                                N jitters, N rotations and shifts; stability: the Explain tab's
//                                target explained by every member with panel A's method)
//   show-uncertainty MAP         in panel A: entropy, mutual-information, disagreement,
//                                expected-entropy, explanation-mean, explanation-std
//   fade on|off                  explanation maps fade where the ensemble is unsure
//   compare-models MODEL...      the open model against these versions
//   show-disagreement ROW        views to where the models disagree on row ROW's class (1: least agreeing)
//   synthetic-lesion RADIUS C1[,C2...] [EDGE]  a spherical lesion at the crosshair (contrast per
//                                channel, edge in mm), then segmented again
//   remove-synthetic-lesion
//   explain [TARGET]             explain TARGET (segxai explain's SPEC) in every panel; none: the
//                                Explain tab's target (the picked structure once one is picked)
//   frame-times                  print the frame times since the last frame-times (or the start),
//                                while the engine worked and idle (FrameLog)
//   screenshot PATH              the window
//   figure PATH [WxH]            the panel grid
//   view PANEL VIEW PATH [WxH]   one view: PANEL A-D or difference, VIEW axial|coronal|sagittal|3d
//   export-map PANEL PATH        the panel's shown map, NIfTI in the study geometry
//   export-segmentation PATH
//   save-session PATH | open-session PATH
//   quit [STATUS]
class ScriptRunner {
public:
    // Throws segxai::Error naming the file and line of an unknown command or a bad argument.
    static std::unique_ptr<ScriptRunner> load(const std::string& path);
    // The same from lines in memory; `origin` names them in messages.
    static std::unique_ptr<ScriptRunner> fromLines(const std::vector<std::string>& lines, const std::string& origin);
    // Runs the next command; true once every command has run.
    bool step(Application& app);
    bool done() const { return m_next >= m_lines.size(); }

private:
    std::string m_path;
    std::vector<std::vector<std::string>> m_lines;
    std::vector<int> m_lineNumbers;
    size_t m_next = 0;
};

} // namespace segxai::app
