// What every benchmark program under bench/ prints with its table: the CPU the figures
// were measured on (docs name it with every figure) and the median of repeated runs.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace pcnn_bench {

// The "model name" line of /proc/cpuinfo, or "unknown".
inline std::string cpu_model() {
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return "unknown";
  char line[512];
  std::string model = "unknown";
  while (std::fgets(line, sizeof line, f)) {
    const std::string l = line;
    if (l.rfind("model name", 0) == 0 && l.find(':') != std::string::npos) {
      model = l.substr(l.find(':') + 2);
      if (!model.empty() && model.back() == '\n') model.pop_back();
      break;
    }
  }
  std::fclose(f);
  return model;
}

// Median of the samples (mean of the middle two for an even count); 0 when empty.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs a shell command with its output discarded; ends the benchmark `bench`
// with a message naming the command when it fails.
inline void run_quietly_or_exit(const char* bench, const std::string& cmd) {
  if (std::system((cmd + " >/dev/null").c_str()) != 0) {
    std::fprintf(stderr, "%s: command failed: %s\n", bench, cmd.c_str());
    std::exit(1);
  }
}

// CPU seconds (user + system) of the child processes that have ended so far.
inline double children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace pcnn_bench
