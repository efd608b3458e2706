// `segxai batch`: a cohort through one model and batch.json, shardable over a scheduler's
// job array; `segxai merge`: the cohort tables of a batch folder.
#include "app/cli/batch_progress.h"
#include "app/cli/command.h"
#include "engine/batch/batch_merge.h"
#include "engine/batch/batch_runner.h"
#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>

namespace segxai::app {
namespace {

struct BatchOptions {
    BatchRequest request;
    std::string shard;
};

// SIGINT / SIGTERM (Ctrl-C, a scheduler's time limit or scancel) stop the batch between
// steps: the current study's partial folder is removed and the process exits.
std::atomic<JobControl*> g_control{nullptr};
std::atomic<int> g_signal{0};

extern "C" void onStopSignal(int signal) {
    g_signal = signal;
    if (JobControl* control = g_control.load()) control->requestStop();
    std::signal(signal, SIG_DFL); // a second one ends the process at once
}

int runBatchCommand(BatchOptions& o) {
    checkOutputFolder(o.request.out);
    if (!o.shard.empty()) {
        o.request.shard = parseShard(o.shard);
    } else {
        o.request.shard = shardFromScheduler();
    }
    if (o.request.shard) {
        std::fprintf(stderr, "segxai batch: shard %s (%s)\n", o.request.shard->text().c_str(),
                     o.shard.empty() ? schedulerDescription().c_str() : "--shard");
    }
    JobControl control;
    g_control = &control;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    BatchProgress progress(control);
    const BatchResult r = runBatch(o.request, control, [&](const BatchStudyEvent& e) { progress.onEvent(e); });
    progress.finish();
    g_control = nullptr;
    std::fprintf(
        stderr, "segxai batch: %zu stud%s in this run: %zu computed, %zu skipped (already done), %zu failed%s\n",
        r.selected, r.selected == 1 ? "y" : "ies", r.done, r.skipped, r.failed, r.cancelled ? "; interrupted" : "");
    if (r.merged) {
        std::fprintf(stderr, "segxai batch: merged %zu of %zu studies into %s (%zu tables)\n", r.merged->done,
                     r.merged->studies, o.request.out.c_str(), r.merged->tables.size());
    } else if (o.request.shard && !r.cancelled) {
        std::fprintf(stderr, "segxai batch: when every shard has finished: segxai merge %s\n", o.request.out.c_str());
    }
    if (r.cancelled) return 128 + (g_signal ? g_signal.load() : SIGINT);
    if (r.failed > 0) {
        std::fprintf(stderr, "segxai batch: %zu stud%s failed: see %s/failures/\n", r.failed,
                     r.failed == 1 ? "y" : "ies", o.request.out.c_str());
        return 3;
    }
    return 0;
}

int runMergeCommand(const std::string& dir) {
    const MergeSummary s = mergeBatch(dir);
    std::fprintf(stderr, "segxai merge: %zu studies: %zu done, %zu failed, %zu not finished\n", s.studies, s.done,
                 s.failed, s.missing);
    for (const auto& t : s.tables)
        std::printf("%s\n", t.c_str());
    return s.missing > 0 ? 4 : 0;
}

} // namespace

CommandRun registerBatchCommand(CLI::App& parser) {
    auto* c = parser.add_subcommand("batch", "Run a cohort (manifest) through a model and a batch configuration; "
                                             "one shard of it per process on a job array");
    auto o = std::make_shared<BatchOptions>();
    BatchRequest& r = o->request;
    c->add_option("--manifest", r.manifest,
                  "CSV: a header id,<channel>...[,gt] and one study per row (paths relative to it)")
        ->required();
    c->add_option("--model", r.model, kModelOptionHelp)->required();
    c->add_flag(
        "--no-channel-matching", r.keepChannelOrder,
        "Feed the manifest's channel columns to the model in their order, without matching their names to its inputs");
    c->add_option("--config", r.config,
                  "batch.json: segmentation, explanations and targets, lesions, aggregation, metrics")
        ->required();
    c->add_option("--out", r.out, "Output folder: DIR/<id>/ per study, cohort tables in DIR")->required();
    c->add_option("--shard", o->shard,
                  "I/N: run every N-th study starting with the I-th (default: from SLURM_ARRAY_TASK_ID / SGE_TASK_ID / "
                  "LSB_JOBINDEX, else every study)");
    c->add_option("--prefetch", r.prefetch, "Studies loaded ahead of the one computing (default 1; 0: none)")
        ->check(CLI::Range(0, 16));
    return [o] { return runReportingErrors([&] { return runBatchCommand(*o); }); };
}

CommandRun registerMergeCommand(CLI::App& parser) {
    auto* m = parser.add_subcommand(
        "merge", "Build a batch folder's cohort tables from its finished studies (after every shard)");
    auto dir = std::make_shared<std::string>();
    m->add_option("DIR", *dir, "The batch output folder")->required();
    return [dir] { return runReportingErrors([&] { return runMergeCommand(*dir); }); };
}

} // namespace segxai::app
