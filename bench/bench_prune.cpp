// Pruning speed and memory on VGG-16-ImageNet (14.7 M conv weights):
// n = 4, V = 16, per-channel int8. Each run is a fresh child process, so its
// peak RSS (wait4) covers exactly one load + prune + write; calibration runs
// in children of its own and is reported apart. Prints medians.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "pcnn/core/error.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/image/staging_dir.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "pcnn/prune/report.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::median;

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Sample {
  double load_s = 0, prune_s = 0, calib_s = 0, write_s = 0;
  double images_s = 0, onnx_s = 0, commit_s = 0;  // parts of write_s
  double peak_rss_mb = 0;
};

// Child body: times one job and writes the seconds to `fd`.
void child_prune(const std::string& model_path, const std::string& out_dir, int fd) {
  Sample s;
  auto t = Clock::now();
  const pcnn::OnnxModel model = pcnn::OnnxModel::load(model_path);
  s.load_s = since(t);
  pcnn::PruneOptions opt;
  opt.n = 4;
  opt.patterns = 16;
  opt.calib_samples = 0;
  pcnn::PruneTimings pt;
  pcnn::PrunedModel pm = pcnn::prune_model(model, opt, &pt);
  s.prune_s = pt.prune_s;
  t = Clock::now();
  {
    pcnn::StagingDirectory staging(out_dir);
    auto part = Clock::now();
    pcnn::write_model_image_files(pm.images, staging.path());
    pcnn::write_file_synced(staging.file("report.json"), pcnn::make_report(pm, opt).dump(2));
    s.images_s = since(part);
    part = Clock::now();
    model.save_with_conv_weights(pm.pruned_weights, staging.file("pruned.onnx"));
    s.onnx_s = since(part);
    part = Clock::now();
    staging.commit();
    s.commit_s = since(part);
  }
  s.write_s = since(t);
  if (::write(fd, &s, sizeof s) != static_cast<ssize_t>(sizeof s)) std::_Exit(3);
}

void child_calibrate(const std::string& model_path, int samples, int fd) {
  Sample s;
  const pcnn::OnnxModel model = pcnn::OnnxModel::load(model_path);
  pcnn::PruneOptions opt;
  opt.n = 4;
  opt.patterns = 16;
  opt.calib_samples = 0;
  pcnn::PrunedModel pm = pcnn::prune_model(model, opt, nullptr);
  const auto t = Clock::now();
  model.calibrate(pm.pruned_weights, samples, 1);
  s.calib_s = since(t);
  if (::write(fd, &s, sizeof s) != static_cast<ssize_t>(sizeof s)) std::_Exit(3);
}

template <class Body>
Sample in_child(Body body) {
  int fds[2];
  if (::pipe(fds) != 0) throw pcnn::Error("bench", "pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    try {
      body(fds[1]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench child: %s\n", e.what());
      std::_Exit(2);
    }
    std::_Exit(0);
  }
  ::close(fds[1]);
  Sample s;
  const bool got = ::read(fds[0], &s, sizeof s) == static_cast<ssize_t>(sizeof s);
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw pcnn::Error("bench", "child run failed");
  s.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
    const int calib_runs = argc > 2 ? std::atoi(argv[2]) : 3;
    const int calib_samples = argc > 3 ? std::atoi(argv[3]) : 1;
    const std::string zoo_name = argc > 4 ? argv[4] : "vgg16-imagenet";
    if (runs < 1 || calib_runs < 0 || calib_samples < 1) {
      std::fprintf(stderr, "usage: bench_prune [RUNS=5] [CALIB_RUNS=3] [CALIB_SAMPLES=1] [ZOO_MODEL=vgg16-imagenet]\n");
      return 1;
    }
    std::string dir_template = "/tmp/pcnn-bench-prune-XXXXXX";
    if (!::mkdtemp(dir_template.data())) throw pcnn::Error("/tmp", "cannot create a directory");
    const std::string dir = dir_template;
    const std::string model_path = dir + "/" + zoo_name + ".onnx";
    auto t = Clock::now();
    pcnn::build_zoo_model(zoo_name, 1).write(model_path);
    const double gen_s = since(t);
    const double file_mb =
        static_cast<double>(std::filesystem::file_size(model_path)) / (1024.0 * 1024.0);
    std::printf(
        "%s: %.1f MiB ONNX, generated in %.2f s; n = 4, V = 16, per-channel int8\n",
        zoo_name.c_str(), file_mb, gen_s);

    std::vector<double> load, prune, write, images, onnx, commit, total, rss, calib, calib_rss;
    for (int i = 0; i < runs; ++i) {
      const Sample s = in_child([&](int fd) { child_prune(model_path, dir + "/out", fd); });
      load.push_back(s.load_s);
      prune.push_back(s.prune_s);
      write.push_back(s.write_s);
      images.push_back(s.images_s);
      onnx.push_back(s.onnx_s);
      commit.push_back(s.commit_s);
      total.push_back(s.load_s + s.prune_s + s.write_s);
      rss.push_back(s.peak_rss_mb);
    }
    for (int i = 0; i < calib_runs; ++i) {
      const Sample s = in_child([&](int fd) { child_calibrate(model_path, calib_samples, fd); });
      calib.push_back(s.calib_s);
      calib_rss.push_back(s.peak_rss_mb);
    }
    std::printf("\n%-44s %10s\n", "step (median of runs)", "value");
    std::printf("%-44s %9.3f s\n", "load ONNX", median(load));
    std::printf("%-44s %9.3f s\n", "distill + project + quantise", median(prune));
    std::printf("%-44s %9.3f s\n", "write images + pruned.onnx + report", median(write));
    std::printf("%-44s %9.3f s\n", "  of which images + manifest + report", median(images));
    std::printf("%-44s %9.3f s\n", "  of which pruned.onnx", median(onnx));
    std::printf("%-44s %9.3f s\n", "  of which fsync + rename of the directory", median(commit));
    std::printf("%-44s %9.3f s   (goal < 2 s)\n", "total without calibration", median(total));
    std::printf("%-44s %9.1f MiB (%.2fx the ONNX file; goal < 3x)\n",
                "peak RSS, load + prune + write", median(rss), median(rss) / file_mb);
    if (calib_runs > 0) {
      std::printf("%-44s %9.3f s   (%d sample%s, %d runs)\n", "calibration (float forward passes)",
                  median(calib), calib_samples, calib_samples == 1 ? "" : "s", calib_runs);
      std::printf("%-44s %9.1f MiB\n", "peak RSS, calibration child", median(calib_rss));
    }
    std::printf("runs: %d prune, %d calibration; one core (single-threaded code)\n", runs,
                calib_runs);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prune: %s\n", e.what());
    return 1;
  }
  return 0;
}
