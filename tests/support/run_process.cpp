#include "tests/support/run_process.h"

#include <array>
#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace segxai::test {

Process::Process(const std::vector<std::string>& arguments, const std::vector<std::string>& environment) {
    int pipeFds[2];
    if (pipe(pipeFds) != 0) {
        m_result.output = "cannot create a pipe";
        return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 2);
    posix_spawn_file_actions_addclose(&actions, pipeFds[0]);
    std::vector<char*> argv;
    for (const auto& a : arguments)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e)
        envp.push_back(*e);
    for (const auto& e : environment)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int spawned = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(pipeFds[1]);
    if (spawned != 0) {
        close(pipeFds[0]);
        m_pid = -1;
        m_result.output = "cannot start " + arguments[0];
        return;
    }
    m_output = pipeFds[0];
    m_reader = std::thread([this] {
        std::array<char, 4096> buffer;
        ssize_t n;
        while ((n = read(m_output, buffer.data(), buffer.size())) > 0)
            m_collected.append(buffer.data(), size_t(n));
    });
}

Process::~Process() {
    if (m_pid > 0 && !m_waited) {
        kill(m_pid, SIGKILL);
        wait();
    }
}

void Process::signal(int number) {
    if (m_pid > 0 && !m_waited) kill(m_pid, number);
}

ProcessResult Process::wait() {
    if (m_pid <= 0 || m_waited) return m_result;
    int status = 0;
    waitpid(m_pid, &status, 0);
    if (m_reader.joinable()) m_reader.join();
    close(m_output);
    m_waited = true;
    m_result.output = m_collected;
    m_result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return m_result;
}

ProcessResult runProcess(const std::vector<std::string>& arguments, const std::vector<std::string>& environment) {
    Process process(arguments, environment);
    return process.wait();
}

} // namespace segxai::test
