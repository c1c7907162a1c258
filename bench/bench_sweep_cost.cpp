// The constants of the sweep runner's cost model (docs/sweeps.md, "Balance";
// src/sweep/sweep_runner.cpp): the CPU time of whole `pcnn-sim run` processes
// on VGG-16-CIFAR at n = 4 with 32 PEs, for both timing modes and every act
// mode, medians over fresh processes run side by side.
//
//   process:  a run of conv1_1 alone, no dense twin (the process, the images
//             read, elaboration; its few MACs are counted in too)
//   per MAC:  (a whole-network run, no dense twins - process) / its stored MACs
//   dense:    (a whole-network run with dense twins simulated, no cache -
//             the same run without them) / the network's dense MACs
//
//   build/bench_sweep_cost [RUNS]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pcnn/sweep/sweep_spec.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::children_cpu_seconds;
using pcnn_bench::cpu_model;
using pcnn_bench::median;

namespace fs = std::filesystem;

void run_or_die(const std::string& cmd) {
  pcnn_bench::run_quietly_or_exit("bench_sweep_cost", cmd);
}

// CPU seconds (user + system) of the processes one command ran.
double cpu_of(const std::string& cmd) {
  const double c = children_cpu_seconds();
  run_or_die(cmd);
  return children_cpu_seconds() - c;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 3;
  const std::string bin = fs::read_symlink("/proc/self/exe").parent_path().string();
  char tmpl[] = "/tmp/pcnn-bench-sweep-cost-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string tmp = tmpl;
  run_or_die("'" + bin + "/pcnn-zoo' vgg16-cifar -o " + tmp + "/vgg.onnx");
  run_or_die("'" + bin + "/pcnn-prune' " + tmp + "/vgg.onnx -o " + tmp + "/n4 --n 4");
  // The MAC counts the cost model sees, from the sweep reader itself.
  std::ofstream(tmp + "/s.json") << R"({"workloads": [{"name": "all", "images": "n4"},
      {"name": "one", "images": "n4", "layer": "conv1_1"}]})";
  const pcnn::SweepSpec spec = pcnn::read_sweep_file(tmp + "/s.json");
  const double macs = static_cast<double>(spec.workloads[0].macs_run);
  const double dense_macs = static_cast<double>(spec.workloads[0].dense_macs_run);
  const double one_macs = static_cast<double>(spec.workloads[1].macs_run);

  const std::string sim = "'" + bin + "/pcnn-sim' run " + tmp + "/n4 --seed 1";
  const char* timings[] = {"cycle", "lt"};
  const char* modes[] = {"off", "gate", "skip"};
  struct Cell {
    std::vector<double> one, all, dense;
  };
  std::vector<Cell> cells(6);
  for (int r = 0; r < runs; ++r)
    for (int t = 0; t < 2; ++t)
      for (int m = 0; m < 3; ++m) {  // side by side: one run of each per round
        Cell& c = cells[static_cast<std::size_t>(t * 3 + m)];
        const std::string opts = std::string(" --timing ") + timings[t] + " --act-mode " + modes[m];
        c.one.push_back(cpu_of(sim + " --layer conv1_1 --no-dense" + opts));
        c.all.push_back(cpu_of(sim + " --all --no-dense" + opts));
        c.dense.push_back(cpu_of(sim + " --all --dense-cache off" + opts));
      }
  fs::remove_all(tmp);

  std::printf("pcnn-sim run CPU time (user + system), VGG-16-CIFAR n = 4, 32 PEs, median of %d\n",
              runs);
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("stored MACs %.4g (conv1_1 %.4g), dense MACs %.4g\n", macs, one_macs, dense_macs);
  std::printf("%-6s %-5s %10s %10s %10s %12s %12s %9s\n", "timing", "mode", "conv1_1", "--all",
              "+dense", "s/G MAC", "dense s/G", "vs off");
  double off_per_mac[2] = {0, 0};
  for (int t = 0; t < 2; ++t)
    for (int m = 0; m < 3; ++m) {
      const Cell& c = cells[static_cast<std::size_t>(t * 3 + m)];
      const double one = median(c.one), all = median(c.all), dense = median(c.dense);
      const double per_mac = (all - one) / (macs - one_macs);
      const double dense_per_mac = (dense - all) / dense_macs;
      if (m == 0) off_per_mac[t] = per_mac;
      std::printf("%-6s %-5s %8.3f s %8.3f s %8.3f s %12.3f %12.3f %8.2fx\n", timings[t], modes[m],
                  one, all, dense, 1e9 * per_mac, 1e9 * dense_per_mac, per_mac / off_per_mac[t]);
    }
  return 0;
}
