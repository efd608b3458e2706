#pragma once
#include "app/cli/command.h"
#include "app/gui/gui_options.h"

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace segxai::app {

// segxai's whole command line: the viewer's options and every subcommand, registered but not
// run. main() parses and runs it; the command-line fuzzer parses only.
struct CommandLine {
    CommandLine();
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    CLI::App parser;
    GuiOptions gui;
    std::string size;                         // --size WxH, checked after parsing
    std::map<CLI::App*, CommandRun> commands; // subcommand -> what runs it
};

} // namespace segxai::app
