// ONNX load time and peak memory for zoo models written into /tmp. Each run is
// a fresh process (this program re-executed), so its peak RSS is its own:
//   load      - OnnxModel::load
//   pipeline  - load, a second copy of the conv weights (as the pruner holds),
//               one calibration sample, save_with_conv_weights
// Prints medians over 5 runs; the RSS ratio is against the ONNX file's size.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Child: does one job, prints the wall time of its phases in seconds on stdout:
// load, weight copy, calibration, save.
int child(const std::string& job, const std::string& path) {
  auto t = std::chrono::steady_clock::now();
  double phase[4] = {};
  auto lap = [&t](double& into) {
    into = seconds_since(t);
    t = std::chrono::steady_clock::now();
  };
  auto model = pcnn::OnnxModel::load(path);
  lap(phase[0]);
  if (job == "pipeline") {
    std::vector<std::vector<float>> weights;
    for (const auto& c : model.convs()) weights.push_back(c.weights);
    lap(phase[1]);
    model.calibrate(weights, 1, 1);
    lap(phase[2]);
    model.save_with_conv_weights(weights, path + ".out.onnx");
    lap(phase[3]);
  }
  std::printf("%.6f %.6f %.6f %.6f\n", phase[0], phase[1], phase[2], phase[3]);
  return 0;
}

struct Run {
  double phase[4] = {};
  double peak_mb = 0;
};

Run spawn(const std::string& self, const std::string& job, const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(self.c_str(), self.c_str(), "--child", job.c_str(), path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buf[64] = {};
  const auto n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Run r;
  if (n > 0)
    std::sscanf(buf, "%lf %lf %lf %lf", &r.phase[0], &r.phase[1], &r.phase[2], &r.phase[3]);
  r.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--child") == 0) return child(argv[2], argv[3]);
  std::vector<std::string> names = {"vgg16-cifar", "resnet18-cifar", "vgg16-imagenet",
                                    "vgg16-imagenet-full"};
  if (argc > 1) names.assign(argv + 1, argv + argc);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto dir =
      std::filesystem::temp_directory_path() / ("pcnn-bench-load-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const int runs = 5;
  std::printf("%-20s %8s | %7s %8s %6s | %7s %7s %7s %7s %8s %6s\n", "model", "file MiB", "load s",
              "peak MiB", "x file", "load s", "copy s", "calib s", "save s", "peak MiB", "x file");
  for (const auto& name : names) {
    const std::string path = (dir / (name + ".onnx")).string();
    pcnn::build_zoo_model(name, 1).write(path);
    const double file_mb =
        static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
    // Medians per column over `runs` fresh processes.
    auto median = [&](const std::string& job) {
      std::vector<double> cols[5];
      for (int i = 0; i < runs; ++i) {
        const Run r = spawn(self, job, path);
        for (int p = 0; p < 4; ++p) cols[p].push_back(r.phase[p]);
        cols[4].push_back(r.peak_mb);
      }
      Run m;
      for (int p = 0; p < 5; ++p) {
        std::sort(cols[p].begin(), cols[p].end());
        (p < 4 ? m.phase[p] : m.peak_mb) = cols[p][runs / 2];
      }
      return m;
    };
    const Run load = median("load");
    const Run pipe = median("pipeline");
    std::printf("%-20s %8.1f | %7.3f %8.1f %6.2f | %7.3f %7.3f %7.3f %7.3f %8.1f %6.2f\n",
                name.c_str(), file_mb, load.phase[0], load.peak_mb, load.peak_mb / file_mb,
                pipe.phase[0], pipe.phase[1], pipe.phase[2], pipe.phase[3], pipe.peak_mb,
                pipe.peak_mb / file_mb);
    std::fflush(stdout);
    std::filesystem::remove(path);
    std::filesystem::remove(path + ".out.onnx");
  }
  std::filesystem::remove_all(dir);
  return 0;
}
