#include "pcnn/sweep/process_pool.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>

#include "pcnn/core/error.hpp"

extern char** environ;

namespace pcnn {

namespace {

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

pid_t spawn(const ProcessJob& job) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, job.stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : job.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(job.argv[0], std::string("cannot start: ") + std::strerror(rc));
  return pid;
}

}  // namespace

std::vector<ProcessOutcome> run_processes(
    const std::vector<ProcessJob>& jobs, int parallel,
    const std::function<void(std::size_t, std::size_t)>& on_done) {
  if (parallel < 1) throw Error("run_processes", "parallel must be at least 1");
  using Clock = std::chrono::steady_clock;
  std::vector<ProcessOutcome> out(jobs.size());
  std::map<pid_t, std::pair<std::size_t, Clock::time_point>> running;
  std::size_t next = 0, done = 0;
  bool failed = false;
  while (true) {
    while (!failed && next < jobs.size() && static_cast<int>(running.size()) < parallel) {
      out[next].started = true;
      try {
        running[spawn(jobs[next])] = {next, Clock::now()};
      } catch (const Error& e) {  // not started: reported like a failed run
        out[next].exit_code = 127;
        out[next].error_line = e.what();
        failed = true;
        ++done;
      }
      ++next;
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error("run_processes", std::string("waitpid: ") + std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    ProcessOutcome& o = out[it->second.first];
    o.wall_seconds = std::chrono::duration<double>(Clock::now() - it->second.second).count();
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (o.exit_code != 0) {
      failed = true;
      o.error_line = last_line(jobs[it->second.first].stderr_path);
    }
    running.erase(it);
    ++done;
    if (on_done) on_done(done, jobs.size());
  }
  return out;
}

}  // namespace pcnn
