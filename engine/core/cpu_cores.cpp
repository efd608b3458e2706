#include "engine/core/cpu_cores.h"

#include <algorithm>
#include <cstdlib>
#include <sched.h>
#include <thread>

namespace segxai {
namespace {

int positiveInteger(const char* variable) {
    const char* text = std::getenv(variable);
    if (text == nullptr) return 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    return end != text && *end == '\0' && value > 0 && value < 100000 ? int(value) : 0;
}

int countCores() {
    if (const int forced = positiveInteger("SEGXAI_THREADS")) return forced;
    int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
    if (const int slurm = positiveInteger("SLURM_CPUS_PER_TASK")) cores = std::min(cores, slurm);
    return cores;
}

} // namespace

int usableCores() {
    static const int cores = countCores();
    return cores;
}

} // namespace segxai
