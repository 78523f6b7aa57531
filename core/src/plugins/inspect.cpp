// Reading a plugin's descriptor in a child process (`switchboard plugins describe FILE`).
#include <switchboard/core/plugins/inspect.hpp>

#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/dll/shared_library.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace switchboard::core {

namespace fs = std::filesystem;
namespace sdk_events = switchboard::sdk::events;

inspection inspect_plugin(const std::string& helper_program, const std::string& file, int64_t timeout_ms) {
    inspection out;
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        out.error = "cannot create pipes";
        return out;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    std::vector<std::string> args = {helper_program, "plugins", "describe", file};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, helper_program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        out.error = "cannot start " + helper_program + ": " + std::strerror(rc);
        return out;
    }
    std::string child_out, child_err;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool timed_out = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
            } else {
                (i == 0 ? child_out : child_err).append(buf, static_cast<size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    while (!child_err.empty() && (child_err.back() == '\n' || child_err.back() == '\r')) child_err.pop_back();
    if (timed_out) {
        out.error = "loading the plugin did not finish within " + std::to_string(timeout_ms) + " ms";
    } else if (WIFSIGNALED(status)) {
        out.error = std::string("the plugin crashed while loading (signal ") + std::to_string(WTERMSIG(status)) + ", " +
                    strsignal(WTERMSIG(status)) + ")";
    } else if (WEXITSTATUS(status) != 0) {
        out.error = child_err.empty() ? "the inspector exited with status " + std::to_string(WEXITSTATUS(status)) : child_err;
    } else {
        out.ok = true;
        out.json = child_out;
    }
    return out;
}

}  // namespace switchboard::core
