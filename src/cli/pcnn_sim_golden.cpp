#include "pcnn_sim_golden.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/sim/tensor_file.hpp"

namespace po = boost::program_options;

namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t;
}

// FILE.npy plus FILE.npy.json with the tensor's name, shape and scale.
void write_tensor(const std::string& path, const std::string& name,
                  const std::vector<std::int8_t>& values, const std::vector<std::int64_t>& shape,
                  float scale, const std::string& what) {
  pcnn::write_output_file(path, pcnn::npy_bytes(values, shape), what);
  const nlohmann::json meta{
      {"tensor", name}, {"shape", shape}, {"scale", scale}, {"dtype", "int8"}};
  pcnn::write_output_file(path + ".json", meta.dump(2) + "\n", what);
}

}  // namespace

int golden_command(int argc, char** argv) {
  std::string images_dir, input_path, output_path, dump_dir;
  int top = 5;
  po::options_description visible(
      "Usage:\n  pcnn-sim golden IMAGES_DIR --input FILE [--output FILE.npy] [--dump-layers "
      "DIR]\n\n"
      "Runs the whole network of IMAGES_DIR (network.json from pcnn-prune) on one input\n"
      "with the golden integer network executor.\n\nOptions");
  visible.add_options()("help,h", "show this help")(
      "input", po::value(&input_path),
      "the input: .npy (float32/uint8, NCHW or HWC), .pgm/.ppm/.png, or an int8 PCNT tensor "
      "already at the input scale")("output", po::value(&output_path),
                                    "write the output int8 tensor as .npy (scale in FILE.json)")(
      "dump-layers", po::value(&dump_dir),
      "write every intermediate int8 tensor into this new folder (index.json lists them)")(
      "top", po::value(&top)->default_value(5), "classes to print for a classifier");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "images", images_dir);
  if (vm.count("help")) {
    std::cout << visible;
    return 0;
  }
  if (images_dir.empty())
    throw pcnn::UsageError("command line", "no IMAGES_DIR given (see --help)");
  if (input_path.empty()) throw pcnn::UsageError("--input", "is required");
  if (top < 1) throw pcnn::UsageError("--top", "must be at least 1");
  if (!output_path.empty()) {
    pcnn::check_output_path(output_path, "--output");
    pcnn::check_output_path(output_path + ".json", "--output");
  }
  if (!dump_dir.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(dump_dir, ec) && !std::filesystem::is_empty(dump_dir, ec))
      throw pcnn::UsageError("--dump-layers", "'" + dump_dir + "' exists and is not empty");
  }
  const pcnn::GoldenNetwork net = pcnn::GoldenNetwork::load(images_dir);
  std::vector<std::int8_t> x;
  const auto& shape = net.input_shape();
  if (pcnn::is_network_input_file(input_path)) {
    x = net.quantise_input(pcnn::read_network_input(input_path, shape));
  } else {
    const pcnn::Int8Tensor t = pcnn::read_tensor_file(input_path);
    if (std::vector<std::int64_t>{1, t.c, t.h, t.w} != shape)
      throw pcnn::Error(input_path, "tensor is " + std::to_string(t.c) + "x" + std::to_string(t.h) +
                                        "x" + std::to_string(t.w) + "; the network takes " +
                                        shape_text(shape));
    x = t.data;
  }
  nlohmann::json index = nlohmann::json::array();
  pcnn::TensorObserver observer;
  if (!dump_dir.empty()) {
    std::filesystem::create_directories(dump_dir);
    observer = [&](const pcnn::NetNode& node, const pcnn::NetTensor& t,
                   const std::vector<std::int8_t>& v) {
      char file[32];
      std::snprintf(file, sizeof file, "%03zu.npy", index.size());
      write_tensor(dump_dir + "/" + file, t.name, v, t.shape, t.scale, "--dump-layers");
      index.push_back({{"file", file},
                       {"node", node.name},
                       {"op", pcnn::to_string(node.op)},
                       {"tensor", t.name},
                       {"shape", t.shape},
                       {"scale", t.scale}});
    };
  }
  const pcnn::GoldenOutput y = net.run(x, observer);
  if (!dump_dir.empty())
    pcnn::write_output_file(dump_dir + "/index.json", index.dump(2) + "\n", "--dump-layers");
  if (!output_path.empty())
    write_tensor(output_path, net.network().tensors[net.network().output].name, y.values, y.shape,
                 y.scale, "--output");
  std::printf("output %s, scale %g, %zu operators\n", shape_text(y.shape).c_str(), y.scale,
              net.network().nodes.size());
  std::int64_t classes = 1;
  for (std::size_t i = 1; i < y.shape.size(); ++i) classes *= y.shape[i];
  if (classes > 1 && y.shape.size() == 2) {
    std::printf("%4s %6s %10s\n", "rank", "class", "logit");
    const std::vector<int> best = pcnn::top_k(y.values, top);
    for (std::size_t r = 0; r < best.size(); ++r)
      std::printf("%4zu %6d %10.4f\n", r + 1, best[r], y.values[best[r]] * y.scale);
    std::printf("class %d\n", best[0]);
  }
  return 0;
}
