#pragma once
#include "engine/analysis/ensemble_uncertainty.h"
#include "engine/core/cpu_usage.h"
#include "engine/core/job_runner.h"
#include "engine/explain/explanation.h"
#include "engine/io/study.h"
#include "engine/model/model.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

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
CommandRun registerAggregateCommand(CLI::App& parser);
CommandRun registerEvaluateCommand(CLI::App& parser);
CommandRun registerBatchCommand(CLI::App& parser);
CommandRun registerMergeCommand(CLI::App& parser);
CommandRun registerUncertaintyCommand(CLI::App& parser);
CommandRun registerCompareModelsCommand(CLI::App& parser);

// Runs `body`, turning an exception into a one-line reason on stderr and exit status 1.
int runReportingErrors(const std::function<int()>& body);

// The explanation parameters every explaining command takes (--layer, --samples, ...):
// registered on a subcommand, turned into ExplainParameters after parsing.
struct ParameterOptions {
    ExplainParameters parameters;
    std::string rule = "riemann-middle", baseline = "zero", variant = "paper", normalize = "none",
                noiseSampling = "independent";
    // Throws segxai::Error for a bad rule or baseline.
    ExplainParameters resolved() const;
};
void addParameterOptions(CLI::App& command, ParameterOptions& options);

// --method and --target of a command that explains one target with several models (members,
// versions): both or neither. Throws segxai::Error.
std::optional<StabilityRequest> explanationRequest(const std::string& method, const std::string& target,
                                                   const ParameterOptions& parameters);

// A command's last line: threads, CPU time, wall time and cores busy.
void printCpuUsage(const CpuMeter& cpu);

// The help of every --model option.
inline constexpr const char* kModelOptionHelp =
    "TorchScript file (card beside it), a folder with model.pt and its card, a MONAI bundle folder or an nnU-Net "
    "results folder";

// The study a command reads: --study files (one per channel), --gt, --no-channel-matching.
struct StudyOptions {
    std::vector<std::string> files;
    std::string groundTruth;
    bool keepChannelOrder = false;
    StudyRequest request() const;
};
// `required`: --study must be given; `groundTruth`: the command takes --gt.
void addStudyOptions(CLI::App& command, StudyOptions& options, bool required = true, bool groundTruth = true);

// The request with its channels in the model's input order, matched by name (the mapping is
// logged). Throws segxai::Error when the names are ambiguous.
StudyRequest matchedToModel(StudyRequest request, const Model& model);

// What a command may choose of an nnU-Net results folder: --folds, --checkpoint,
// --configuration, --no-mirroring, --step.
void addNnunetOptions(CLI::App& command, NnunetOptions& options);

// The study (--study files, --gt) and the model (--model) an analysis command works on, and
// the input paths its outputs must never replace. Throws segxai::Error.
struct CommandInputs {
    Study study;
    std::shared_ptr<const Model> model;
    std::vector<std::string> paths;
    StudyRequest request; // the channels as matched to the model, to read the study again
};
CommandInputs loadCommandInputs(const StudyOptions& study, const std::string& model, JobContext& job,
                                const NnunetOptions& nnunet = {});

} // namespace segxai::app
