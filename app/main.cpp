// segxai: the desktop application, or with a subcommand the same engine on the command line.
#include "app/command_line.h"
#include "engine/core/log.h"
#include "engine/model/device.h"

#include <cstdio>

int main(int argc, char** argv) {
    using namespace segxai::app;
    CommandLine line;
    CLI::App& parser = line.parser;
    GuiOptions& gui = line.gui;
    const std::string& size = line.size;
    const auto& commands = line.commands;

    try {
        parser.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return parser.exit(e);
    }
    for (auto& [command, run] : commands) {
        if (command->parsed()) {
            segxai::Log::instance().setEcho(segxai::LogLevel::Info);
            // LibTorch's thread count is per thread: set here, the work before a model's first
            // forward (preparing the input, planning windows) runs on every core too.
            segxai::useComputeThreads();
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
