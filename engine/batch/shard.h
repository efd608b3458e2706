#pragma once
#include <functional>
#include <optional>
#include <string>

namespace segxai {

// Which part of a cohort one process runs: the studies whose position p (0-based, manifest
// order) has p % count == index. Shards are disjoint and together cover every study.
struct Shard {
    int index = 0; // 0-based
    int count = 1;
    bool includes(size_t position) const { return int(position % size_t(count)) == index; }
    std::string text() const; // "2/3" (1-based, as given on the command line)
};

// "I/N" with 1 <= I <= N (1-based, as a person counts shards). Throws segxai::Error.
Shard parseShard(const std::string& text);

// The shard of a job-array task, from the scheduler's environment:
//   Slurm:            SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT
//                     (and SLURM_ARRAY_TASK_STEP, so --array=0-30:10 counts 4 tasks)
//   SGE / UGE / OGE:  SGE_TASK_ID, SGE_TASK_FIRST, SGE_TASK_LAST, SGE_TASK_STEPSIZE
//   LSF:              LSB_JOBINDEX with LSB_JOBINDEX_END and LSB_JOBINDEX_STEP (arrays
//                     numbered from 1, as "job[1-N]")
// nullopt when no array is running (one process runs everything). `lookup` reads a
// variable (getenv by default). Throws segxai::Error for values that do not make a shard
// (an index outside the range, a count of 0).
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<Shard> shardFromScheduler(const EnvironmentLookup& lookup = {});

// Which scheduler variables shardFromScheduler read, for messages ("Slurm array task 3 of 8").
std::string schedulerDescription(const EnvironmentLookup& lookup = {});

} // namespace segxai
