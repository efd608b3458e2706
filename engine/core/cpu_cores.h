#pragma once

namespace segxai {

// The cores this process may use: SEGXAI_THREADS if set, else the CPUs it is allowed to run
// on (a scheduler's allocation, through its CPU set), capped by SLURM_CPUS_PER_TASK. The
// node's core count would oversubscribe a shared cluster node. Read once.
int usableCores();

} // namespace segxai
