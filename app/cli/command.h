#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace segxai::app {

// Each subcommand registers its options on the parser and returns the function that runs it
// (after parsing) and gives the exit status.
using CommandRun = std::function<int()>;

CommandRun registerInfoCommand(CLI::App& parser);
CommandRun registerDemoDataCommand(CLI::App& parser);
CommandRun registerSegmentCommand(CLI::App& parser);
CommandRun registerLayersCommand(CLI::App& parser);
CommandRun registerExplainCommand(CLI::App& parser);
CommandRun registerRenderCommand(CLI::App& parser);
CommandRun registerLesionsCommand(CLI::App& parser);

// Runs `body`, turning an exception into a one-line reason on stderr and exit status 1.
int runReportingErrors(const std::function<int()>& body);

} // namespace segxai::app
