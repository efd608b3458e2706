#pragma once
#include "engine/batch/batch_merge.h"
#include "engine/batch/shard.h"
#include "engine/core/job_runner.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace segxai {

// One run of `segxai batch`: a manifest's studies (one shard of them) through one model and
// batch.json, into DIR (engine/batch_folder.h).
struct BatchRequest {
    std::string manifest, model, config, out;
    std::optional<Shard> shard;    // nullopt: every study
    size_t prefetch = 1;           // studies loaded ahead of the one being computed
    bool keepChannelOrder = false; // the manifest's columns in the model's order: no matching
};

struct BatchStudyEvent {
    enum class Kind { Started, Skipped, Done, Failed };
    Kind kind = Kind::Started;
    std::string id;
    size_t position = 0;        // among this run's studies (0-based)
    size_t count = 0;           // this run's studies
    double seconds = 0.0;       // Done: the study's whole time
    std::string error;          // Failed
    uint64_t residentBytes = 0; // Done, Failed: the process's resident memory afterwards
};

struct BatchResult {
    size_t selected = 0, skipped = 0, done = 0, failed = 0;
    bool cancelled = false;
    std::optional<MergeSummary> merged; // merged at the end when this run covered every study
};

// Loads the model once, then runs every study of the shard in manifest order, the next one
// loading while the current one computes. A study already finished with the same
// configuration, model and input files is skipped; a failing study is recorded in
// DIR/failures/ and the batch goes on; a stop request (control) ends the current study
// without leaving anything that looks finished. Without a shard the cohort tables are merged
// at the end. Throws segxai::Error for a bad manifest, configuration, model or output folder.
BatchResult runBatch(const BatchRequest& request, JobControl& control,
                     const std::function<void(const BatchStudyEvent&)>& onEvent);

} // namespace segxai
