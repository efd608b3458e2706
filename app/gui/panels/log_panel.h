#pragma once
#include "engine/core/log.h"

#include <vector>

namespace segxai::app {

// Warnings and errors (and what loaded) from the one log facade, newest at the bottom.
class LogPanel {
public:
    // Pulls new entries from the log; true when a warning or error arrived.
    bool update();
    void draw();
    int unseenProblems() const { return m_unseenProblems; }
    void markSeen() { m_unseenProblems = 0; }

private:
    std::vector<LogEntry> m_entries;
    uint64_t m_lastSequence = 0;
    int m_unseenProblems = 0;
    bool m_scrollToBottom = false;
};

} // namespace segxai::app
