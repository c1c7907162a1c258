// Simulator speed: simulated cycles per second on a 64 -> 64 channel 32x32
// layer (n = 4), wall time of the VGG-16-CIFAR conv stack at n = 4 with and
// without the dense comparison runs, modes gate and skip and the fast mode
// (--timing lt) against cycle-level off, the cost of a 10,000-cycle VCD window,
// and what booking idle MAC-stage edges at once saves over evaluating each.
// With an image set (bench_sim RUNS IMAGES_DIR, e.g. the pruner's VGG-16-CIFAR
// n = 4 output) it also times whole `pcnn-sim run IMAGES_DIR --all --no-dense`
// processes, start-up included, in both timing modes.
// SystemC elaborates once per process, so every measurement runs in a fresh
// child process (this program re-executed with --child); the table shows
// medians over the runs.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <systemc>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/workloads.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::cpu_model;
using pcnn_bench::median;

const bool kQuiet = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

std::vector<pcnn::LayerJob> layer64_jobs(int copies) {
  std::mt19937_64 rng(21);
  pcnn::ConvGeometry g;
  g.in_channels = g.out_channels = 64;
  g.in_h = g.in_w = 32;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "conv64");
  job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
  return std::vector<pcnn::LayerJob>(copies, job);
}

std::vector<pcnn::LayerJob> vgg_jobs(bool with_dense) {
  std::mt19937_64 rng(22);
  std::vector<pcnn::LayerJob> jobs;
  for (const pcnn::ConvGeometry& g : pcnn::vgg16_cifar_conv_shapes()) {
    pcnn::LayerJob job;
    job.layer = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "conv");
    job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
    jobs.push_back(job);
  }
  if (with_dense) {
    const std::size_t n = jobs.size();
    for (std::size_t i = 0; i < n; ++i) {
      pcnn::LayerJob d;
      d.layer = pcnn::dense_equivalent(jobs[i].layer);
      d.input = jobs[i].input;
      jobs.push_back(d);
    }
  }
  return jobs;
}

// Child: run one measurement, print "<cycles> <seconds>".
int child(const std::string& what, const std::string& vcd) {
  std::vector<pcnn::LayerJob> jobs;
  pcnn::SimOptions opt;
  if (what == "layer64-every-edge") {  // the same layers, every clock edge evaluated
    opt.skip_idle_edges = false;
    jobs = layer64_jobs(10);
  } else if (what == "layer64")
    jobs = layer64_jobs(10);
  else if (what == "vgg")
    jobs = vgg_jobs(false);
  else if (what == "vgg-lt") {
    jobs = vgg_jobs(false);
    opt.timing = pcnn::Timing::lt;
  } else if (what == "vgg-gate" || what == "vgg-skip") {
    jobs = vgg_jobs(false);
    opt.act_mode = what == "vgg-gate" ? pcnn::ActMode::gate : pcnn::ActMode::skip;
  } else if (what == "vgg-dense")
    jobs = vgg_jobs(true);
  else
    return 2;
  if (!vcd.empty()) {
    opt.trace.vcd_path = vcd;
    opt.trace.from_cycle = 0;
    opt.trace.to_cycle = 9999;
  }
  auto cpu = [] {
    rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  const double c0 = cpu();
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = pcnn::simulate(jobs, pcnn::ArchConfig{}, opt);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double c = cpu() - c0;
  std::uint64_t cycles = 0;
  for (const auto& r : results) cycles += r.stats.cycles;
  std::printf("%llu %.6f %.6f\n", static_cast<unsigned long long>(cycles), s, c);
  return 0;
}

struct Sample {
  double cycles = 0, seconds = 0, cpu = 0;  // wall and CPU seconds of simulate()
};

Sample run_child(const std::string& self, const std::string& what, const std::string& vcd) {
  std::string cmd = "'" + self + "' --child " + what;
  if (!vcd.empty()) cmd += " '" + vcd + "'";
  FILE* p = popen(cmd.c_str(), "r");
  Sample s;
  if (!p) return s;
  if (std::fscanf(p, "%lf %lf %lf", &s.cycles, &s.seconds, &s.cpu) != 3) s = Sample{};
  pclose(p);
  return s;
}

// One whole `pcnn-sim run IMAGES --all --no-dense --timing T` process: wall and
// CPU seconds (its own and its children's), or zeros if it failed.
Sample run_pcnn_sim(const std::string& program, const std::string& images, const char* timing) {
  Sample s;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) return s;
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDOUT_FILENO);
    execl(program.c_str(), program.c_str(), "run", images.c_str(), "--all", "--no-dense",
          "--timing", timing, static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage u{};
  if (wait4(pid, &status, 0, &u) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return s;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.cpu = u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  return s;
}

}  // namespace

int sc_main(int argc, char** argv) {
  (void)kQuiet;
  if (argc >= 3 && std::string(argv[1]) == "--child")
    return child(argv[2], argc >= 4 ? argv[3] : "");
  // bench_sim [RUNS [IMAGES_DIR]]
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 5;
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  const std::string vcd = "/tmp/pcnn_bench_sim_" + std::to_string(getpid()) + ".vcd";

  const std::string images = argc >= 3 ? argv[2] : "";
  const std::string dir = std::string(self).substr(0, std::string(self).rfind('/') + 1);
  std::vector<double> rate, rate_cpu, layer_s, vgg_s, vgg_cpu, vgg_cycles, vggd_s, vggd_cpu, ratio,
      skip_gain, gate_cpu, skip_cpu, lt_s, lt_cpu, lt_ratio, run_cycle_s, run_cycle_cpu, run_lt_s,
      run_lt_cpu;
  for (int r = 0; r < runs; ++r) {
    // The VCD cost is measured side by side: plain and traced runs alternate.
    const Sample a = run_child(self, "layer64", "");
    const Sample b = run_child(self, "layer64", vcd);
    rate.push_back(a.cycles / a.seconds);
    rate_cpu.push_back(a.cycles / a.cpu);
    layer_s.push_back(a.seconds);
    ratio.push_back(b.seconds / a.seconds);
    const Sample e = run_child(self, "layer64-every-edge", "");  // side by side with run a
    skip_gain.push_back(e.seconds / a.seconds);
    const Sample v = run_child(self, "vgg", "");
    vgg_s.push_back(v.seconds);
    vgg_cpu.push_back(v.cpu);
    vgg_cycles.push_back(v.cycles);
    gate_cpu.push_back(run_child(self, "vgg-gate", "").cpu / v.cpu);  // side by side with v
    skip_cpu.push_back(run_child(self, "vgg-skip", "").cpu / v.cpu);
    const Sample lt = run_child(self, "vgg-lt", "");
    if (lt.cycles != v.cycles) std::fprintf(stderr, "fast mode reported other cycles\n");
    lt_s.push_back(lt.seconds);
    lt_cpu.push_back(lt.cpu);
    lt_ratio.push_back(lt.cpu / v.cpu);
    if (!images.empty()) {  // whole processes, side by side
      const Sample c = run_pcnn_sim(dir + "pcnn-sim", images, "cycle");
      const Sample l = run_pcnn_sim(dir + "pcnn-sim", images, "lt");
      run_cycle_s.push_back(c.seconds);
      run_cycle_cpu.push_back(c.cpu);
      run_lt_s.push_back(l.seconds);
      run_lt_cpu.push_back(l.cpu);
    }
    const Sample d = run_child(self, "vgg-dense", "");
    vggd_s.push_back(d.seconds);
    vggd_cpu.push_back(d.cpu);
  }
  std::remove(vcd.c_str());
  std::printf("pcnn-sim speed, median of %d runs (each in its own process; simulate() only)\n",
              runs);
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::printf("%-52s %12s %12s\n", "measurement", "wall", "cpu");
  std::printf("%-52s %10.2f M %10.2f M\n", "64->64 32x32 n=4 (x10 layers): simulated cycles/s",
              median(rate) / 1e6, median(rate_cpu) / 1e6);
  std::printf("%-52s %10.3f s %12s\n", "64->64 32x32 n=4 (x10 layers): time", median(layer_s), "");
  std::printf("%-52s %10.3f s %10.3f s\n", "VGG-16-CIFAR conv stack n=4", median(vgg_s),
              median(vgg_cpu));
  std::printf("%-52s %12.0f\n", "VGG-16-CIFAR conv stack n=4: simulated cycles",
              median(vgg_cycles));
  std::printf("%-52s %10.3f s %10.3f s\n", "VGG-16-CIFAR n=4 + dense comparison runs",
              median(vggd_s), median(vggd_cpu));
  std::printf("%-52s %10.2f x\n", "VGG-16-CIFAR n=4 mode gate: CPU time vs off", median(gate_cpu));
  std::printf("%-52s %10.2f x\n", "VGG-16-CIFAR n=4 mode skip: CPU time vs off", median(skip_cpu));
  std::printf("%-52s %10.3f s %10.3f s\n", "VGG-16-CIFAR n=4 fast mode (--timing lt)", median(lt_s),
              median(lt_cpu));
  std::printf("%-52s %10.2f x\n", "VGG-16-CIFAR n=4 fast mode: CPU time vs cycle",
              median(lt_ratio));
  if (!images.empty()) {
    std::printf("%-52s %10.3f s %10.3f s\n", "pcnn-sim run IMAGES --all --no-dense, cycle",
                median(run_cycle_s), median(run_cycle_cpu));
    std::printf("%-52s %10.3f s %10.3f s\n", "pcnn-sim run IMAGES --all --no-dense, lt",
                median(run_lt_s), median(run_lt_cpu));
  }
  std::printf("%-52s %10.2f x\n", "VCD, 10,000-cycle window: time vs no VCD (64->64 x10)",
              median(ratio));
  std::printf("%-52s %10.2f x\n", "every edge evaluated: time vs idle edges booked (64->64)",
              median(skip_gain));
  return 0;
}
