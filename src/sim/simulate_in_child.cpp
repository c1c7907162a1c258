// simulate() in a forked child process: SystemC elaborates one simulation per
// process, so a program that runs several (tests, comparisons of two modes)
// forks one child per run. The child sends its results back through a pipe as
// CBOR; a failure comes back as its one-line message.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "pcnn/core/error.hpp"
#include "pcnn/sim/simulate.hpp"
#include "src/sim/child_process.hpp"

namespace pcnn {

namespace {

nlohmann::json result_to_json(const LayerResult& r) {
  const std::vector<std::uint8_t> bytes(r.output.begin(), r.output.end());
  return {{"output", nlohmann::json::binary(bytes)},
          {"stats", stats_to_json(r.stats)},
          {"modules", r.module_stats}};
}

LayerResult result_from_json(const nlohmann::json& j) {
  LayerResult r;
  const std::vector<std::uint8_t>& bytes = j.at("output").get_binary();
  r.output.assign(bytes.begin(), bytes.end());
  r.stats = stats_from_json(j.at("stats"));
  r.module_stats = j.at("modules");
  return r;
}

void write_all(int fd, const std::vector<std::uint8_t>& data) {
  std::size_t at = 0;
  while (at < data.size()) {
    const ssize_t n = ::write(fd, data.data() + at, data.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

}  // namespace

nlohmann::json run_in_child(const std::function<nlohmann::json()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error("simulation", std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error("simulation", std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    ::close(fds[0]);
    nlohmann::json out;
    try {
      out = {{"result", work()}};
    } catch (const std::exception& e) {
      out = {{"error", e.what()}};
    }
    write_all(fds[1], nlohmann::json::to_cbor(out));
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<std::uint8_t> data;
  std::uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.insert(data.end(), buf, buf + n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    throw Error("simulation", "child process killed by signal " + std::to_string(WTERMSIG(status)) +
                                  " (" + strsignal(WTERMSIG(status)) + ")");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty())
    throw Error("simulation", "child process failed without a result");
  nlohmann::json in = nlohmann::json::from_cbor(data);
  if (in.contains("error")) throw Error(in["error"].get<std::string>());
  return std::move(in.at("result"));
}

std::vector<LayerResult> simulate_in_child(const std::vector<LayerJob>& jobs,
                                           const ArchConfig& arch, const SimOptions& options) {
  const nlohmann::json in = run_in_child([&] {
    nlohmann::json out = nlohmann::json::array();
    for (const LayerResult& r : simulate(jobs, arch, options)) out.push_back(result_to_json(r));
    return out;
  });
  std::vector<LayerResult> results;
  for (const nlohmann::json& r : in) results.push_back(result_from_json(r));
  return results;
}

}  // namespace pcnn
