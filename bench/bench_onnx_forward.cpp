// Float forward pass (the pruner's calibration) per zoo model: median wall time
// of one sample over several runs, and the conv throughput it implies.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> names = {"vgg16-cifar", "resnet18-cifar", "resnet18-imagenet",
                                    "vgg16-imagenet"};
  if (argc > 1) names.assign(argv + 1, argv + argc);
  const int runs = 5;
  const auto dir = std::filesystem::temp_directory_path() / "pcnn-bench-forward";
  std::filesystem::create_directories(dir);
  std::printf("%-20s %12s %14s %12s\n", "model", "conv MACs", "median s/img", "conv GMAC/s");
  for (const auto& name : names) {
    const std::string path = (dir / (name + ".onnx")).string();
    const auto builder = pcnn::build_zoo_model(name, 1);
    builder.write(path);
    const auto model = pcnn::OnnxModel::load(path);
    std::vector<std::vector<float>> weights;
    for (const auto& c : model.convs()) weights.push_back(c.weights);
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      model.calibrate(weights, 1, static_cast<std::uint64_t>(r));
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    const double median = times[runs / 2];
    const auto macs = builder.summary().conv_macs;
    std::printf("%-20s %12.3g %14.4f %12.2f\n", name.c_str(), static_cast<double>(macs), median,
                static_cast<double>(macs) / median / 1e9);
    std::filesystem::remove(path);
  }
  std::filesystem::remove(dir);
  return 0;
}
