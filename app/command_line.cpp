#include "app/command_line.h"

#include "app/cli/command.h"

namespace segxai::app {

CommandLine::CommandLine()
    : parser("SegXAI: explain 3D medical image segmentation models.\n"
             "Without a subcommand, opens the viewer on FILES (or the lesion demo).",
             "segxai") {
    parser.set_version_flag("--version", "segxai 0.1.0");
    parser.require_subcommand(0, 1);

    parser.add_option("files", gui.files, "Study channel files (NIfTI, NRRD, MetaImage) or a DICOM folder");
    parser.add_option("--gt", gui.groundTruth, "Ground-truth label map of the study");
    parser.add_flag("--no-channel-matching", gui.keepChannelOrder,
                    "Feed the files to the model in the order given, without matching their names to its inputs");
    parser.add_option("--model", gui.model, kModelOptionHelp);
    addNnunetOptions(parser, gui.nnunet);
    parser.add_option("--screenshot", gui.screenshotPath, "Save a PNG of the window once the study is shown");
    parser.add_flag("--screenshot-views", gui.screenshotViews,
                    "With --screenshot, also save each view as <name>_<view>.png");
    parser.add_flag("--demo", gui.demo,
                    "Open the lesion demo: a synthetic-lesion study and the demo model "
                    "(the default without files)");
    parser
        .add_option("--explain", gui.explainMethods,
                    "Explain the segmentation once it is ready: a method id (segxai explain --help) or "
                    "all-gradient; several (comma-separated) open side-by-side panels")
        ->delimiter(',');
    parser.add_option("--target", gui.explainTarget, "Target of --explain (default class:1)");
    parser.add_option("--layer", gui.explainLayer, "CAM layer of --explain");
    parser.add_option("--crosshair", gui.crosshair, "Initial crosshair voxel I,J,K");
    parser.add_option("--session", gui.session, "Open a saved session (.segxai)");
    parser.add_option("--script", gui.script, "Run a script of viewer commands (docs/user-guide.md#scripts)");
    parser.add_option("--benchmark-frames", gui.benchmarkFrames,
                      "Draw N frames once everything has settled (moving the crosshair, or turning the 3D camera) "
                      "and print the median and p99 frame time");
    parser
        .add_option("--layout", gui.benchmarkLayout,
                    "Layout of --benchmark-frames: tri, compare, axial, coronal, "
                    "sagittal or volume (default tri)")
        ->check(CLI::IsMember({"tri", "compare", "axial", "coronal", "sagittal", "volume"}));
    parser.add_flag(
        "--benchmark-busy", gui.benchmarkBusy,
        "With --benchmark-frames: keep an explanation (SmoothGrad, 50 samples) running on the engine thread");
    parser.add_flag("--quit", gui.quit, "Exit once the study is shown (and screenshots saved)");
    parser.add_option("--size", size, "Window size WxH (default 1600x900)");
    parser
        .add_option("--panel", gui.panel,
                    "Side panel shown first: study, model, explain, instances, lesions, aggregation or uncertainty")
        ->check(CLI::IsMember({"study", "model", "explain", "instances", "lesions", "aggregation", "uncertainty"}));
    parser.add_option("--shader-dir", gui.shaderFolder,
                      "Development: read shaders from this folder and reload them on change");

    auto add = [&](CommandRun run) { commands[parser.get_subcommands({}).back()] = run; };
    add(registerInfoCommand(parser));
    add(registerSegmentCommand(parser));
    add(registerLayersCommand(parser));
    add(registerExplainCommand(parser));
    add(registerRenderCommand(parser));
    add(registerLesionsCommand(parser));
    add(registerUncertaintyCommand(parser));
    add(registerCompareModelsCommand(parser));
    add(registerAggregateCommand(parser));
    add(registerEvaluateCommand(parser));
    add(registerBatchCommand(parser));
    add(registerMergeCommand(parser));
    add(registerDemoDataCommand(parser));
}

} // namespace segxai::app
