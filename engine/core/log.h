#pragma once
#include <chrono>
#include <cstdint>
#include <fmt/format.h>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace segxai {

enum class LogLevel { Info, Warning, Error };

struct LogEntry {
    uint64_t sequence = 0;
    LogLevel level = LogLevel::Info;
    std::chrono::system_clock::time_point time;
    std::string message;
};

// The one logging facade: thread-safe, keeps the most recent entries for the UI's log panel
// and forwards each to an optional sink (the command line prints to stderr).
class Log {
public:
    static Log& instance();

    void write(LogLevel level, std::string message);
    // Entries with a sequence number greater than `after`, oldest first.
    std::vector<LogEntry> since(uint64_t after) const;
    void setSink(std::function<void(const LogEntry&)> sink);
    // Entries at or above `minimum` are also printed to stderr.
    void setEcho(std::optional<LogLevel> minimum);

private:
    mutable std::mutex m_mutex;
    std::vector<LogEntry> m_entries;
    uint64_t m_sequence = 0;
    std::function<void(const LogEntry&)> m_sink;
    std::optional<LogLevel> m_echo;
};

template <typename... Args> void logInfo(fmt::format_string<Args...> f, Args&&... args) {
    Log::instance().write(LogLevel::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void logWarning(fmt::format_string<Args...> f, Args&&... args) {
    Log::instance().write(LogLevel::Warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void logError(fmt::format_string<Args...> f, Args&&... args) {
    Log::instance().write(LogLevel::Error, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace segxai
