#pragma once
// Runs programs as child processes, at most `parallel` at a time. Sweeps use it
// because a SystemC simulation elaborates once per process.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace pcnn {

struct ProcessJob {
  std::vector<std::string> argv;  // argv[0] is the program's path
  std::string stderr_path;        // the child's standard error goes here
};

struct ProcessOutcome {
  bool started = false;  // false when an earlier failure stopped the pool first
  int exit_code = -1;    // 128 + signal number when the child was killed
  double wall_seconds = 0.0;
  std::string error_line;  // last non-empty line of the child's standard error
};

// Starts the jobs in order; after the first failure no new job is started
// (running ones finish). Standard output of the children is discarded.
// on_done(done, total) is called after each finished job.
std::vector<ProcessOutcome> run_processes(
    const std::vector<ProcessJob>& jobs, int parallel,
    const std::function<void(std::size_t, std::size_t)>& on_done = {});

}  // namespace pcnn
