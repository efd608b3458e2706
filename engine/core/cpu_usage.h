#pragma once
#include <chrono>
#include <map>

namespace segxai {

// CPU time (user + system) this process has used so far, over all its threads, in seconds.
double processCpuSeconds();

// CPU time (user + system) of each of this process's threads so far, by thread id, in
// seconds (Linux: /proc/self/task; empty elsewhere). Shows which threads did the work.
std::map<int, double> threadCpuSeconds();

// Measures a stretch of work: wall time and the process's CPU time since construction.
// cpuPerWall() near the thread count means every core was busy; near 1, one core was.
class CpuMeter {
public:
    CpuMeter();
    double wallSeconds() const;
    double cpuSeconds() const;
    double cpuPerWall() const;

private:
    std::chrono::steady_clock::time_point m_wallStart;
    double m_cpuStart;
};

} // namespace segxai
