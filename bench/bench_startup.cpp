// Start-up and dense-twin cost of pcnn-sim on VGG-16-CIFAR at n = 4.
//
// Table 1, start-up (in this process, medians): reading and checking the
// image set with every layer rebuilt, as `pcnn-sim run --all` does, with none
// rebuilt (the layers run from the files), as `pcnn-sim run --all --no-dense`
// does, and with one layer rebuilt, as `pcnn-sim run --layer NAME` does (each
// time plus network.json, which pcnn-sim reads for the input signs).
// Table 2, whole runs (each a fresh pcnn-sim process, medians of wall time):
// a default `--all` run (dense twins included) without the dense-twin cache,
// with an empty cache and with a filled one, and `--no-dense` for reference;
// then a two-point sweep (n = 4 and n = 2 images, same input) without the
// cache and with an empty one (the second point reuses the first's twins).
//
// The images are made first with the pcnn-zoo and pcnn-prune programs of the
// same build folder, in a temporary folder that is removed at the end.
//
//   build/bench_startup [RUNS]
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::children_cpu_seconds;
using pcnn_bench::cpu_model;
using pcnn_bench::median;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall = 0, cpu = 0;
};

void run_or_die(const std::string& cmd) { pcnn_bench::run_quietly_or_exit("bench_startup", cmd); }

// Wall and CPU seconds of one command (CPU: of the processes it ran).
Timing timed(const std::string& cmd) {
  const auto t = Clock::now();
  const double c = children_cpu_seconds();
  run_or_die(cmd);
  return {since(t), children_cpu_seconds() - c};
}

// Start-up of one run: the image set read and checked (one layer, all or
// none rebuilt) and network.json read against it.
Timing startup(const std::string& dir, const std::string& layer, pcnn::KernelData data) {
  const auto t = Clock::now();
  const double c = cpu_seconds();
  const pcnn::ModelImages images =
      layer.empty() ? pcnn::read_model_images(dir, data) : pcnn::read_model_images(dir, layer);
  const pcnn::Int8Network net =
      pcnn::read_int8_network(dir, images.layers, pcnn::GemmWeights::skip);
  const Timing s{since(t), cpu_seconds() - c};
  if (net.nodes.empty()) std::exit(1);  // keeps the reads from being optimised away
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 5;
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  const std::string bin = fs::path(self).parent_path().string();
  char tmpl[] = "/tmp/pcnn-bench-startup-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string tmp = tmpl;
  const std::string sim = "'" + bin + "/pcnn-sim'";

  run_or_die("'" + bin + "/pcnn-zoo' vgg16-cifar -o " + tmp + "/vgg.onnx");
  run_or_die("'" + bin + "/pcnn-prune' " + tmp + "/vgg.onnx -o " + tmp + "/n4 --n 4");
  run_or_die("'" + bin + "/pcnn-prune' " + tmp + "/vgg.onnx -o " + tmp + "/n2 --n 2");
  const std::string dir = tmp + "/n4";

  // "" with every layer rebuilt, then with none (packed), then one layer each.
  const std::vector<std::string> layers = {"", "", "conv1_1", "conv3_1", "conv5_3"};
  std::vector<std::vector<double>> start_wall(layers.size()), start_cpu(layers.size());
  for (int r = 0; r < 4 * runs; ++r)  // cheap: more runs for steadier medians
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const Timing t =
          startup(dir, layers[i], i == 1 ? pcnn::KernelData::packed : pcnn::KernelData::decoded);
      start_wall[i].push_back(t.wall);
      start_cpu[i].push_back(t.cpu);
    }

  // Whole runs. The cache folder is the run's own (--dense-cache DIR).
  const std::string cache = tmp + "/cache";
  const std::string all = sim + " run " + dir;
  // A sweep over the two image sets: every point runs dense twins of the
  // same shapes and inputs, so the second point reuses the first's (-j 1:
  // the points run one after the other).
  const std::string spec = tmp + "/sweep.json";
  {
    FILE* f = std::fopen(spec.c_str(), "w");
    if (!f) return 1;
    std::fprintf(f,
                 "{\"workloads\": [{\"name\": \"n4\", \"images\": \"n4\"},"
                 " {\"name\": \"n2\", \"images\": \"n2\"}], \"act_modes\": [\"off\"]}\n");
    std::fclose(f);
  }
  const std::string sweep = sim + " sweep " + spec + " -j 1 -o " + tmp + "/s.csv";
  struct Row {
    std::string name, command;
    bool empty_cache_first;
    std::vector<double> wall, cpu;
  };
  std::vector<Row> rows = {
      {"pcnn-sim run --all --no-dense", all + " --no-dense", false, {}, {}},
      {"pcnn-sim run --all, dense twins, no cache", all + " --dense-cache off", false, {}, {}},
      {"pcnn-sim run --all, dense twins, empty cache",
       all + " --dense-cache " + cache,
       true,
       {},
       {}},
      {"pcnn-sim run --all, dense twins from the cache",
       all + " --dense-cache " + cache,
       false,
       {},
       {}},
      {"sweep: n=4 and n=2 points (-j 1), no cache",
       "PCNN_DENSE_CACHE=off " + sweep,
       false,
       {},
       {}},
      {"sweep: n=4 and n=2 points (-j 1), empty cache",
       "PCNN_DENSE_CACHE=" + cache + " " + sweep,
       true,
       {},
       {}}};
  for (int r = 0; r < runs; ++r)
    for (Row& row : rows) {  // side by side: one run of each per round
      fs::remove(tmp + "/s.csv");
      if (row.empty_cache_first) fs::remove_all(cache);
      const Timing t = timed(row.command);
      row.wall.push_back(t.wall);
      row.cpu.push_back(t.cpu);
    }
  fs::remove_all(tmp);

  std::printf("pcnn-sim start-up and dense twins, VGG-16-CIFAR n = 4, median of %d runs\n", runs);
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("%-58s %10s %10s\n", "start-up: images read and checked, network.json read", "wall",
              "cpu");
  for (std::size_t i = 0; i < layers.size(); ++i)
    std::printf("%-58s %7.2f ms %7.2f ms\n",
                (i == 0   ? std::string("every layer rebuilt (--all)")
                 : i == 1 ? std::string("none rebuilt, all checked (--all --no-dense)")
                          : "one layer rebuilt (--layer " + layers[i] + ")")
                    .c_str(),
                1e3 * median(start_wall[i]), 1e3 * median(start_cpu[i]));
  std::printf("\n%-58s %10s %10s\n", "whole runs (fresh processes)", "wall", "cpu");
  for (const Row& row : rows)
    std::printf("%-58s %8.3f s %8.3f s\n", row.name.c_str(), median(row.wall), median(row.cpu));
  return 0;
}
