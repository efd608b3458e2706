#pragma once
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace segxai::test {

struct ProcessResult {
    int exitCode = -1;  // 128 + signal when a signal ended it
    std::string output; // stdout and stderr together
};

// A program started with arguments (no shell), its output collected while it runs.
// `environment` entries ("NAME=value") are added to this process's environment.
class Process {
public:
    Process(const std::vector<std::string>& arguments, const std::vector<std::string>& environment = {});
    ~Process(); // kills and reaps a process still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    void signal(int number);
    ProcessResult wait();

private:
    pid_t m_pid = -1;
    int m_output = -1;
    std::string m_collected;
    std::thread m_reader;
    bool m_waited = false;
    ProcessResult m_result;
};

// Runs a program and waits for it.
ProcessResult runProcess(const std::vector<std::string>& arguments, const std::vector<std::string>& environment = {});

} // namespace segxai::test
