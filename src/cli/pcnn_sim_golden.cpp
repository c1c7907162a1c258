#include "pcnn_sim_golden.hpp"

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/sim/tensor_file.hpp"
#include "pcnn_sim_network_io.hpp"

namespace po = boost::program_options;

int golden_command(int argc, char** argv) {
  std::string images_dir, input_path, output_path, dump_dir, input_shape_text;
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
      "top", po::value(&top)->default_value(5), "classes to print for a classifier")(
      "input-shape", po::value(&input_shape_text),
      "run a fully convolutional network at another input size, NxCxHxW (e.g. 1x3x64x64)");
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
  if (!dump_dir.empty()) check_dump_dir(dump_dir);
  const pcnn::GoldenNetwork net = load_network(images_dir, input_shape_text);
  const std::vector<std::int8_t> x = read_quantised_input(input_path, net);
  std::unique_ptr<LayerDump> dump;
  pcnn::TensorObserver observer;
  if (!dump_dir.empty()) {
    dump = std::make_unique<LayerDump>(dump_dir);
    observer = [&](const pcnn::NetNode& node, const pcnn::NetTensor& t,
                   const std::vector<std::int8_t>& v) { dump->add(node, t, v); };
  }
  const pcnn::GoldenOutput y = net.run(x, observer);
  if (dump) dump->finish();
  if (!output_path.empty())
    write_int8_tensor(output_path, net.network().tensors[net.network().output].name, y.values,
                      y.shape, y.scale, "--output");
  print_network_output(y.values, y.shape, y.scale, net.network().nodes.size(), top);
  return 0;
}
