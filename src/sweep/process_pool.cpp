#include "pcnn/sweep/process_pool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {

using Clock = std::chrono::steady_clock;

// The signals that stop the pool. They are blocked while it runs and taken with
// sigtimedwait together with SIGCHLD, so no handler runs in the middle of
// anything and no child exit is missed.
sigset_t pool_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  return set;
}

class BlockedSignals {
 public:
  BlockedSignals() {
    const sigset_t set = pool_signals();
    sigprocmask(SIG_BLOCK, &set, &previous_);
  }
  ~BlockedSignals() { sigprocmask(SIG_SETMASK, &previous_, nullptr); }
  const sigset_t& previous() const { return previous_; }

 private:
  sigset_t previous_;
};

// The last non-empty lines of the file, reading at most its last 64 KiB.
std::vector<std::string> last_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 65536 ? size - 65536 : 0;
  in.seekg(from);
  std::string line;
  std::deque<std::string> lines;
  if (from > 0) std::getline(in, line);  // skip a partial first line
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    lines.push_back(line);
    if (lines.size() > kMaxErrorLines) lines.pop_front();
  }
  return {lines.begin(), lines.end()};
}

// fork + exec with the child in its own process group. An exec failure is
// reported through a close-on-exec pipe, so "cannot start" is told apart from
// a program that ran and failed. Returns the pid or throws pcnn::Error.
pid_t spawn(const ProcessJob& job, const sigset_t& child_mask) {
  std::vector<char*> args;
  for (const std::string& a : job.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0)
    throw Error(job.argv[0], std::string("cannot start: pipe: ") + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(report[0]);
    close(report[1]);
    throw Error(job.argv[0], std::string("cannot start: fork: ") + std::strerror(err));
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    sigprocmask(SIG_SETMASK, &child_mask, nullptr);
    int err = 0;
    const int in = open("/dev/null", O_RDONLY);
    const int out = open("/dev/null", O_WRONLY);
    const int errfd =
        open(job.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (in < 0 || out < 0 || errfd < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
      err = errno;
    if (err == 0) {
      execv(args[0], args.data());
      err = errno;
    }
    [[maybe_unused]] const ssize_t w = write(report[1], &err, sizeof err);
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists before the first kill(-pid)
  close(report[1]);
  int err = 0;
  ssize_t n;
  do n = read(report[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    int status;
    waitpid(pid, &status, 0);
    throw Error(job.argv[0], std::string("cannot start: ") + std::strerror(err));
  }
  return pid;
}

struct Running {
  std::size_t job;
  Clock::time_point start;
};

std::string signal_name(int sig) {
  const char* d = strsignal(sig);
  return d ? d : "signal " + std::to_string(sig);
}

class Pool {
 public:
  Pool(const std::vector<ProcessJob>& jobs, const ProcessPoolOptions& options)
      : jobs_(jobs), options_(options) {
    result_.outcomes.resize(jobs.size());
  }

  ProcessPoolResult run() {
    try {
      loop();
    } catch (...) {
      stop_all();
      throw;
    }
    return std::move(result_);
  }

 private:
  void loop() {
    const sigset_t signals = pool_signals();
    sigset_t stop_signals = signals;
    sigdelset(&stop_signals, SIGCHLD);
    while (true) {
      // A stop signal that came with a child's exit: start nothing more.
      const timespec now = {0, 0};
      const int pending = sigtimedwait(&stop_signals, nullptr, &now);
      if (pending > 0) {
        result_.interrupted_by = pending;
        stop_all();
        return;
      }
      start_jobs();
      if (running_.empty()) return;
      if (reap(true)) continue;
      timespec wait = {1, 0};  // a safety net; SIGCHLD normally wakes us
      const int sig = sigtimedwait(&signals, nullptr, &wait);
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        result_.interrupted_by = sig;
        stop_all();
        return;
      }
    }
  }

  void start_jobs() {
    while (!stopped_starting_ && next_ < jobs_.size() &&
           static_cast<int>(running_.size()) < options_.parallel) {
      const std::size_t j = next_++;
      ProcessOutcome& o = result_.outcomes[j];
      o.started = true;
      try {
        running_[spawn(jobs_[j], blocked_.previous())] = {j, Clock::now()};
      } catch (const Error& e) {  // not started: reported like a failed run
        o.finished = true;
        o.exit_code = 127;
        o.error_lines = {e.what()};
        ended(j);
      }
    }
  }

  // Collects the children that have ended; returns whether any had.
  bool reap(bool report) {
    bool any = false;
    for (auto it = running_.begin(); it != running_.end();) {
      int status = 0;
      const pid_t r = waitpid(it->first, &status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        ++it;
        continue;
      }
      if (r < 0) throw Error("run_processes", std::string("waitpid: ") + std::strerror(errno));
      const std::size_t j = it->second.job;
      ProcessOutcome& o = result_.outcomes[j];
      o.wall_seconds = std::chrono::duration<double>(Clock::now() - it->second.start).count();
      o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (o.exit_code != 0) {
        o.error_lines = last_lines(jobs_[j].stderr_path);
        if (WIFSIGNALED(status))
          o.error_lines.push_back("killed by " + signal_name(WTERMSIG(status)));
        else if (o.error_lines.empty())
          o.error_lines.push_back("exited with code " + std::to_string(o.exit_code) +
                                  " and no message");
      }
      it = running_.erase(it);
      any = true;
      if (report) {
        o.finished = true;
        ended(j);
      }
    }
    return any;
  }

  void ended(std::size_t j) {
    const ProcessOutcome& o = result_.outcomes[j];
    if (o.exit_code != 0 && options_.stop_after_failure) stopped_starting_ = true;
    if (options_.on_done) options_.on_done(j, o);
  }

  // SIGTERM to every running child's group, SIGKILL after the grace period or
  // on another signal; returns when all have ended.
  void stop_all() {
    stopped_starting_ = true;
    for (const auto& [pid, r] : running_) kill(-pid, SIGTERM);
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options_.stop_grace_seconds));
    const sigset_t signals = pool_signals();
    bool killed = false;
    while (!running_.empty()) {
      reap(false);
      if (running_.empty()) break;
      timespec wait = {0, 100000000};
      const int sig = sigtimedwait(&signals, nullptr, &wait);
      if (!killed &&
          (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || Clock::now() > deadline)) {
        for (const auto& [pid, r] : running_) kill(-pid, SIGKILL);
        killed = true;
      }
    }
  }

  const std::vector<ProcessJob>& jobs_;
  const ProcessPoolOptions& options_;
  BlockedSignals blocked_;
  ProcessPoolResult result_;
  std::map<pid_t, Running> running_;
  std::size_t next_ = 0;
  bool stopped_starting_ = false;
};

}  // namespace

ProcessPoolResult run_processes(const std::vector<ProcessJob>& jobs,
                                const ProcessPoolOptions& options) {
  if (options.parallel < 1) throw Error("run_processes", "parallel must be at least 1");
  return Pool(jobs, options).run();
}

}  // namespace pcnn
