#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace segxai::bench {

// Resets the process's peak resident set (Linux: "5" to /proc/self/clear_refs).
inline void resetPeakMemory() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

// Peak resident set since the last reset, in MiB (VmHWM).
inline double peakMemoryMiB() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) return double(std::stoll(line.substr(6))) / 1024.0;
    }
    return 0.0;
}

inline double currentMemoryMiB() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return double(std::stoll(line.substr(6))) / 1024.0;
    }
    return 0.0;
}

} // namespace segxai::bench
