#include "engine/core/cpu_usage.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

namespace segxai {

double processCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::map<int, double> threadCpuSeconds() {
    std::map<int, double> seconds;
    std::error_code error;
    const double ticks = double(sysconf(_SC_CLK_TCK));
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
        std::ifstream in(task.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // Fields after the command name (which may hold spaces, so it ends at the last ')'):
        // state is field 3; utime and stime are fields 14 and 15.
        const size_t close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        double user = 0.0, system = 0.0;
        for (int n = 3; n <= 15 && fields >> field; ++n) {
            if (n == 14) user = std::stod(field);
            if (n == 15) system = std::stod(field);
        }
        seconds[std::stoi(task.path().filename().string())] = (user + system) / ticks;
    }
    return seconds;
}

CpuMeter::CpuMeter() : m_wallStart(std::chrono::steady_clock::now()), m_cpuStart(processCpuSeconds()) {}

double CpuMeter::wallSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_wallStart).count();
}

double CpuMeter::cpuSeconds() const {
    return processCpuSeconds() - m_cpuStart;
}

double CpuMeter::cpuPerWall() const {
    const double wall = wallSeconds();
    return wall > 0.0 ? cpuSeconds() / wall : 0.0;
}

} // namespace segxai
