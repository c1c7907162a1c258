// Sweep throughput: the same 8-point sweep of VGG-16-CIFAR at n = 4 (every
// layer, no dense baseline) run with -j 1 and -j 2 side by side, alternating,
// and the per-point cost of a process start plus elaboration, measured on a
// sweep of one small layer. Medians over the runs.
//   build/bench_sweep [RUNS]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pcnn/sweep/csv_table.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::median;

namespace fs = std::filesystem;

std::string build_dir() {
  return fs::read_symlink("/proc/self/exe").parent_path().string();
}

void run_or_die(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "bench_sweep: failed: %s\n", cmd.c_str());
    std::exit(1);
  }
}

double timed(const std::string& cmd) {
  const auto t0 = std::chrono::steady_clock::now();
  run_or_die(cmd);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  char tmpl[] = "/tmp/pcnn_bench_sweep_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string bin = build_dir();
  run_or_die(bin + "/pcnn-zoo vgg16-cifar -o " + dir + "/vgg.onnx > /dev/null");
  run_or_die(bin + "/pcnn-prune " + dir + "/vgg.onnx -o " + dir + "/vgg-n4 --n 4 > /dev/null");
  std::ofstream(dir + "/stack.json") << R"({
    "workloads": [{"name": "vgg16-n4", "images": "vgg-n4"}],
    "grid": {"pe_count": [32, 64], "lanes_per_pe": [4, 8]},
    "act_modes": ["off", "gate"], "dense_baseline": false})";
  std::ofstream(dir + "/small.json") << R"({
    "workloads": [{"name": "conv1_1", "images": "vgg-n4", "layer": "conv1_1"}],
    "grid": {"pe_count": [16, 32, 48, 64, 80, 96, 112, 128]}, "dense_baseline": false})";

  const std::string sweep = bin + "/pcnn-sim sweep ";
  std::vector<double> j1, j2, small_wall, small_point;
  for (int r = 0; r < runs; ++r) {
    j1.push_back(timed(sweep + dir + "/stack.json -j 1 -o " + dir + "/j1.csv > /dev/null"));
    j2.push_back(timed(sweep + dir + "/stack.json -j 2 -o " + dir + "/j2.csv > /dev/null"));
    small_wall.push_back(timed(sweep + dir + "/small.json -j 1 -o " + dir + "/s.csv > /dev/null"));
    const pcnn::CsvTable t = pcnn::read_csv_file(dir + "/s.csv");
    for (const auto& row : t.rows) small_point.push_back(std::stod(row.back()));
  }
  const pcnn::CsvTable stack = pcnn::read_csv_file(dir + "/j1.csv");
  const std::size_t cycles_col = static_cast<std::size_t>(
      std::find(stack.header.begin(), stack.header.end(), "cycles") - stack.header.begin());
  double cycles = 0;
  for (const auto& row : stack.rows) cycles += std::stod(row.at(cycles_col));

  std::printf("pcnn-sim sweep, median of %d runs (2 shared cores)\n", runs);
  std::printf("%-58s %12s\n", "measurement", "median");
  std::printf("%-58s %10.2f s\n", "VGG-16-CIFAR n=4, 8 points, -j 1", median(j1));
  std::printf("%-58s %10.2f s\n", "VGG-16-CIFAR n=4, 8 points, -j 2", median(j2));
  std::printf("%-58s %10.2f x\n", "-j 2 speedup (same run, side by side)", median(j1) / median(j2));
  std::printf("%-58s %8.2f M/s\n", "simulated cycles per second of wall, -j 2",
              cycles / median(j2) / 1e6);
  std::printf("%-58s %10.1f ms\n", "one point of conv1_1 (process, images, elaborate, run)",
              1000.0 * median(small_point));
  std::printf("%-58s %10.2f s\n", "8-point conv1_1 sweep, -j 1, whole command", median(small_wall));
  fs::remove_all(dir);
  return 0;
}
