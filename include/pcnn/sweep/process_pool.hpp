#pragma once
// Runs programs as child processes, at most `parallel` at a time. Sweeps use it
// because a SystemC simulation elaborates once per process.
//
// Each child runs in its own process group and gets SIGTERM if the parent dies
// (PR_SET_PDEATHSIG). While the pool runs, SIGINT, SIGTERM and SIGHUP to the
// parent stop it: every running child's group gets SIGTERM (SIGKILL after a
// grace period or on a second signal), the pool waits for them and returns
// with `interrupted_by` set. No child outlives run_processes.
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
  bool started = false;   // false when the pool stopped before this job
  bool finished = false;  // ended on its own (not stopped by the pool)
  int exit_code = -1;     // 128 + signal number when the child was killed
  double wall_seconds = 0.0;
  // The last non-empty lines of the child's standard error (at most
  // kMaxErrorLines), or why it could not start or what killed it.
  std::vector<std::string> error_lines;
  bool ok() const { return finished && exit_code == 0; }
};

constexpr std::size_t kMaxErrorLines = 10;

struct ProcessPoolOptions {
  int parallel = 1;
  // true: start nothing new after the first failure (running jobs finish).
  bool stop_after_failure = false;
  // Called in the parent as each job ends on its own, in the order they end.
  // An exception from it stops the pool (children are stopped) and propagates.
  std::function<void(std::size_t job, const ProcessOutcome&)> on_done;
  // Seconds a stopped child gets between SIGTERM and SIGKILL.
  double stop_grace_seconds = 10.0;
};

struct ProcessPoolResult {
  std::vector<ProcessOutcome> outcomes;  // one per job, in job order
  int interrupted_by = 0;                // the signal that stopped the pool, or 0
};

// Standard input and output of the children are /dev/null. Throws
// pcnn::Error when parallel < 1 or waiting fails.
ProcessPoolResult run_processes(const std::vector<ProcessJob>& jobs,
                                const ProcessPoolOptions& options);

}  // namespace pcnn
