// Whole-network runs against per-layer runs: VGG-16-CIFAR and ResNet-18-CIFAR
// (pcnn-zoo, pruned at n = 4) on one real input (Fashion-MNIST test image 0
// centred on a 32x32 canvas in all three channels), mode off and skip. Each
// measurement runs in a fresh process (this program re-executed with --child):
//   layers:  the network's convs and Gemm as independent layer jobs
//            (simulate(), as `pcnn-sim run --all`), each fed its real input;
//   network: the whole network in one simulation (simulate_network(), as
//            `pcnn-sim run --network`), operators between convs included.
// Neither runs the dense twins. The table shows medians of the CPU time of the
// simulation call alone (model building and pruning excluded) and their ratio.
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <systemc>

#include "pcnn/golden/golden_network.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "pcnn/sim/network_run.hpp"
#include "pcnn/sim/simulate.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::cpu_model;
using pcnn_bench::median;

const bool kQuiet = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

// Fashion-MNIST test image 0 as [1,3,32,32] (pixel / 255, zero border); a
// grey ramp when the Debian dataset package is not installed.
std::vector<float> real_input() {
  std::vector<float> x(3 * 32 * 32, 0.0f);
  unsigned char img[784];
  gzFile f = gzopen("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb");
  bool ok = f && gzseek(f, 16, SEEK_SET) == 16 && gzread(f, img, 784) == 784;
  if (f) gzclose(f);
  for (int i = 0; i < 784; ++i) {
    const float v = ok ? img[i] / 255.0f : static_cast<float>(i % 28) / 27.0f;
    for (int c = 0; c < 3; ++c) x[(c * 32 + i / 28 + 2) * 32 + i % 28 + 2] = v;
  }
  return x;
}

double cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Child: one measurement; prints "<cycles> <wall s> <cpu s>".
int child(const std::string& what, const std::string& model, const std::string& mode) {
  const std::string onnx = "/tmp/pcnn_bench_network_" + std::to_string(getpid()) + ".onnx";
  pcnn::build_zoo_model(model, 1).write(onnx);
  pcnn::OnnxModel m = pcnn::OnnxModel::load(onnx);
  std::remove(onnx.c_str());
  pcnn::PruneOptions popt;
  popt.n = 4;
  const pcnn::PrunedModel pm = pcnn::prune_model(m, popt);
  const pcnn::Int8Network net = m.int8_network(pm.images.layers, pm.calibration.ranges);
  const pcnn::GoldenNetwork golden(pm.images, net);
  const std::vector<std::int8_t> x = golden.quantise_input(real_input());
  pcnn::SimOptions sim;
  sim.act_mode = pcnn::parse_act_mode(mode);
  std::uint64_t cycles = 0;
  double wall = 0, cpu = 0;
  if (what == "network") {
    pcnn::NetworkRunOptions opt;
    opt.sim = sim;
    opt.with_dense = false;
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const pcnn::NetworkRunResult r =
        pcnn::simulate_network(pm.images, net, x, pcnn::ArchConfig{}, opt);
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = cpu_seconds() - c0;
    cycles = r.total.cycles;
  } else {
    // Every conv and Gemm as its own layer job, on the input the network gives it.
    std::vector<std::vector<std::int8_t>> tensors(net.tensors.size());
    tensors[net.input] = x;
    golden.run(x, [&](const pcnn::NetNode& n, const pcnn::NetTensor&,
                      const std::vector<std::int8_t>& v) { tensors[n.output] = v; });
    std::vector<pcnn::LayerJob> jobs;
    for (const pcnn::NetNode& n : net.nodes) {
      if (n.op != pcnn::Int8Op::conv && n.op != pcnn::Int8Op::gemm) continue;
      pcnn::LayerJob j;
      j.layer = n.op == pcnn::Int8Op::conv ? pm.images.layers[n.layer] : net.gemm_layers[n.layer];
      j.input = tensors[n.inputs[0]];
      jobs.push_back(std::move(j));
    }
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<pcnn::LayerResult> r = pcnn::simulate(jobs, pcnn::ArchConfig{}, sim);
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu = cpu_seconds() - c0;
    for (const pcnn::LayerResult& l : r) cycles += l.stats.cycles;
  }
  std::printf("%llu %.6f %.6f\n", static_cast<unsigned long long>(cycles), wall, cpu);
  return 0;
}

struct Sample {
  double cycles = 0, seconds = 0, cpu = 0;
};

Sample run_child(const std::string& self, const std::string& args) {
  FILE* p = popen(("'" + self + "' --child " + args).c_str(), "r");
  Sample s;
  if (!p) return s;
  if (std::fscanf(p, "%lf %lf %lf", &s.cycles, &s.seconds, &s.cpu) != 3) s = Sample{};
  pclose(p);
  return s;
}

}  // namespace

int sc_main(int argc, char** argv) {
  (void)kQuiet;
  if (argc >= 5 && std::string(argv[1]) == "--child") return child(argv[2], argv[3], argv[4]);
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 3;
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  std::printf("whole-network run vs its per-layer runs, median of %d runs (each its own process)\n",
              runs);
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("%-16s %-5s %12s %12s %10s %10s %8s\n", "model", "mode", "layer_cyc", "network_cyc",
              "layers_s", "network_s", "ratio");
  for (const std::string model : {"vgg16-cifar", "resnet18-cifar"})
    for (const std::string mode : {"off", "skip"}) {
      std::vector<double> layers_cpu, network_cpu, ratio;
      Sample l, n;
      for (int r = 0; r < runs; ++r) {  // side by side
        l = run_child(self, "layers " + model + " " + mode);
        n = run_child(self, "network " + model + " " + mode);
        layers_cpu.push_back(l.cpu);
        network_cpu.push_back(n.cpu);
        ratio.push_back(l.cpu > 0 ? n.cpu / l.cpu : 0.0);
      }
      std::printf("%-16s %-5s %12.0f %12.0f %10.3f %10.3f %7.2fx\n", model.c_str(), mode.c_str(),
                  l.cycles, n.cycles, median(layers_cpu), median(network_cpu), median(ratio));
    }
  std::printf(
      "layer_cyc: sum of the per-layer runs' cycles; network_cyc: the whole network's (with\n"
      "the operators between convs); *_s: CPU seconds of the simulation call; ratio:\n"
      "network / layers CPU time.\n");
  return 0;
}
