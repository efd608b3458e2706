// segxai: the desktop application, or with a subcommand the same engine on the command line.
#include "app/cli/command.h"
#include "app/gui/gui_options.h"
#include "engine/log.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>

int main(int argc, char** argv) {
    using namespace segxai::app;
    CLI::App parser("SegXAI: explain 3D medical image segmentation models.\n"
                    "Without a subcommand, opens the viewer on FILES (or the lesion demo).",
                    "segxai");
    parser.set_version_flag("--version", "segxai 0.1.0");
    parser.require_subcommand(0, 1);

    GuiOptions gui;
    std::string size;
    parser.add_option("files", gui.files,
                      "Study channel files (NIfTI, NRRD, MetaImage) or a DICOM folder");
    parser.add_option("--gt", gui.groundTruth, "Ground-truth label map of the study");
    parser.add_option("--model", gui.model, "TorchScript model (card beside it) or MONAI bundle folder");
    parser.add_option("--screenshot", gui.screenshotPath,
                      "Save a PNG of the window once the study is shown");
    parser.add_flag("--screenshot-views", gui.screenshotViews,
                    "With --screenshot, also save each view as <name>_<view>.png");
    parser.add_flag("--demo", gui.demo, "Open the lesion demo: a synthetic-lesion study and the demo model "
                                        "(the default without files)");
    parser.add_option("--explain", gui.explainMethods,
                      "Explain the segmentation once it is ready: a method id (segxai explain --help) or "
                      "all-gradient; several (comma-separated) open side-by-side panels")
        ->delimiter(',');
    parser.add_option("--target", gui.explainTarget, "Target of --explain (default class:1)");
    parser.add_option("--layer", gui.explainLayer, "CAM layer of --explain");
    parser.add_option("--crosshair", gui.crosshair, "Initial crosshair voxel I,J,K");
    parser.add_option("--session", gui.session, "Open a saved session (.segxai)");
    parser.add_option("--script", gui.script, "Run a script of viewer commands (see README, Scripts)");
    parser.add_option("--benchmark-frames", gui.benchmarkFrames,
                      "Draw N frames once everything has settled (moving the crosshair, or turning the 3D camera) "
                      "and print the median and p99 frame time");
    parser.add_option("--layout", gui.benchmarkLayout, "Layout of --benchmark-frames: tri, compare, axial, coronal, "
                                                      "sagittal or volume (default tri)")
        ->check(CLI::IsMember({"tri", "compare", "axial", "coronal", "sagittal", "volume"}));
    parser.add_flag("--benchmark-busy", gui.benchmarkBusy,
                    "With --benchmark-frames: keep an explanation (SmoothGrad, 50 samples) running on the engine thread");
    parser.add_flag("--quit", gui.quit, "Exit once the study is shown (and screenshots saved)");
    parser.add_option("--size", size, "Window size WxH (default 1600x900)");
    parser.add_option("--panel", gui.panel, "Side panel shown first: study, model, explain, instances, lesions or aggregation")
        ->check(CLI::IsMember({"study", "model", "explain", "instances", "lesions", "aggregation"}));
    parser.add_option("--shader-dir", gui.shaderFolder,
                      "Development: read shaders from this folder and reload them on change");

    std::map<CLI::App*, CommandRun> commands;
    auto add = [&](CommandRun run) { commands[parser.get_subcommands({}).back()] = run; };
    add(registerInfoCommand(parser));
    add(registerSegmentCommand(parser));
    add(registerLayersCommand(parser));
    add(registerExplainCommand(parser));
    add(registerRenderCommand(parser));
    add(registerLesionsCommand(parser));
    add(registerAggregateCommand(parser));
    add(registerEvaluateCommand(parser));
    add(registerBatchCommand(parser));
    add(registerMergeCommand(parser));
    add(registerDemoDataCommand(parser));

    try {
        parser.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return parser.exit(e);
    }
    for (auto& [command, run] : commands) {
        if (command->parsed()) {
            segxai::Log::instance().setEcho(segxai::LogLevel::Info);
            return run();
        }
    }

    if (!size.empty() && std::sscanf(size.c_str(), "%dx%d", &gui.width, &gui.height) != 2) {
        std::fprintf(stderr, "segxai: error: --size expects WxH, for example 1600x900\n");
        return 2;
    }
    // Problems also go to the terminal the viewer was started from.
    segxai::Log::instance().setEcho(segxai::LogLevel::Info);
    gui.demo = gui.demo || (gui.files.empty() && gui.model.empty() && gui.session.empty() && gui.script.empty());
    return runGui(gui);
}
