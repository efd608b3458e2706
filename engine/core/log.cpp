#include "engine/core/log.h"

#include <cstdio>

namespace segxai {

namespace {
constexpr size_t kKeptEntries = 5000;
}

Log& Log::instance() {
    static Log log;
    return log;
}

void Log::write(LogLevel level, std::string message) {
    std::function<void(const LogEntry&)> sink;
    LogEntry entry;
    bool echo = false;
    {
        std::lock_guard lock(m_mutex);
        entry = LogEntry{++m_sequence, level, std::chrono::system_clock::now(), std::move(message)};
        m_entries.push_back(entry);
        if (m_entries.size() > kKeptEntries) {
            m_entries.erase(m_entries.begin(), m_entries.begin() + kKeptEntries / 5);
        }
        sink = m_sink;
        echo = m_echo && level >= *m_echo;
    }
    if (echo) {
        const char* prefix = level == LogLevel::Error     ? "segxai: error: "
                             : level == LogLevel::Warning ? "segxai: warning: "
                                                          : "segxai: ";
        std::fprintf(stderr, "%s%s\n", prefix, entry.message.c_str());
    }
    if (sink) sink(entry);
}

std::vector<LogEntry> Log::since(uint64_t after) const {
    std::lock_guard lock(m_mutex);
    std::vector<LogEntry> out;
    for (const auto& e : m_entries) {
        if (e.sequence > after) out.push_back(e);
    }
    return out;
}

void Log::setSink(std::function<void(const LogEntry&)> sink) {
    std::lock_guard lock(m_mutex);
    m_sink = std::move(sink);
}

void Log::setEcho(std::optional<LogLevel> minimum) {
    std::lock_guard lock(m_mutex);
    m_echo = minimum;
}

} // namespace segxai
