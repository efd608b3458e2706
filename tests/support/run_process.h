#pragma once
#include <string>
#include <vector>

namespace segxai::test {

struct ProcessResult {
    int exitCode = -1;
    std::string output; // stdout and stderr together
};

// Runs a program with arguments (no shell) and waits for it. `environment` entries
// ("NAME=value") are added to this process's environment.
ProcessResult runProcess(const std::vector<std::string>& arguments,
                         const std::vector<std::string>& environment = {});

} // namespace segxai::test
