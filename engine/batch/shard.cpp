#include "engine/batch/shard.h"

#include "engine/core/error.h"

#include <cstdlib>
#include <fmt/format.h>

namespace segxai {
namespace {

std::optional<std::string> fromEnvironment(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

long integer(const std::string& text, const std::string& name) {
    size_t used = 0;
    long value = 0;
    try {
        value = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size()) throw Error(fmt::format("{}={} is not an integer", name, text));
    return value;
}

struct ArrayTask {
    const char* scheduler;
    long id, first, last, step;
};

// The running array task, if any: its id and the array's first, last and step.
std::optional<ArrayTask> arrayTask(const EnvironmentLookup& get) {
    auto read = [&](const char* name) -> std::optional<long> {
        if (auto v = get(name)) return integer(*v, name);
        return std::nullopt;
    };
    if (auto id = read("SLURM_ARRAY_TASK_ID")) {
        const long first = read("SLURM_ARRAY_TASK_MIN").value_or(0);
        const long step = read("SLURM_ARRAY_TASK_STEP").value_or(1);
        long last = read("SLURM_ARRAY_TASK_MAX").value_or(*id);
        if (auto count = read("SLURM_ARRAY_TASK_COUNT")) last = first + (*count - 1) * step;
        return ArrayTask{"Slurm", *id, first, last, step};
    }
    if (auto id = read("SGE_TASK_ID")) { // SGE sets SGE_TASK_ID=undefined outside arrays: integer() refuses it below
        return ArrayTask{"SGE", *id, read("SGE_TASK_FIRST").value_or(1), read("SGE_TASK_LAST").value_or(*id),
                         read("SGE_TASK_STEPSIZE").value_or(1)};
    }
    if (auto id = read("LSB_JOBINDEX"); id && *id > 0) {
        return ArrayTask{"LSF", *id, 1, read("LSB_JOBINDEX_END").value_or(*id), read("LSB_JOBINDEX_STEP").value_or(1)};
    }
    return std::nullopt;
}

EnvironmentLookup orEnvironment(const EnvironmentLookup& lookup) {
    return lookup ? lookup : EnvironmentLookup(fromEnvironment);
}

} // namespace

std::string Shard::text() const {
    return fmt::format("{}/{}", index + 1, count);
}

Shard parseShard(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) throw Error("--shard must be I/N (for example 2/8), not '" + text + "'");
    const long i = integer(text.substr(0, slash), "--shard index"),
               n = integer(text.substr(slash + 1), "--shard count");
    if (n < 1 || i < 1 || i > n) throw Error(fmt::format("--shard {}: I must be from 1 to N, and N at least 1", text));
    return Shard{int(i - 1), int(n)};
}

std::optional<Shard> shardFromScheduler(const EnvironmentLookup& lookup) {
    const EnvironmentLookup get = orEnvironment(lookup);
    if (get("SGE_TASK_ID") == std::optional<std::string>("undefined")) return std::nullopt; // a plain SGE job
    const auto task = arrayTask(get);
    if (!task) return std::nullopt;
    const ArrayTask& t = *task;
    if (t.step < 1) throw Error(fmt::format("{} array: step {} is not positive", t.scheduler, t.step));
    if (t.last < t.first)
        throw Error(fmt::format("{} array: last index {} is below the first {}", t.scheduler, t.last, t.first));
    const long count = (t.last - t.first) / t.step + 1;
    if (t.id < t.first || t.id > t.last || (t.id - t.first) % t.step != 0) {
        throw Error(fmt::format("{} array: task {} is not in {}-{}:{}", t.scheduler, t.id, t.first, t.last, t.step));
    }
    return Shard{int((t.id - t.first) / t.step), int(count)};
}

std::string schedulerDescription(const EnvironmentLookup& lookup) {
    const EnvironmentLookup get = orEnvironment(lookup);
    if (get("SGE_TASK_ID") == std::optional<std::string>("undefined")) return "no job array";
    const auto task = arrayTask(get);
    if (!task) return "no job array";
    return fmt::format("{} array task {} of {}-{}", task->scheduler, task->id, task->first, task->last);
}

} // namespace segxai
