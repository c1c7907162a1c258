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
#include "pcnn_sim_options.hpp"

namespace po = boost::program_options;

int golden_command(int argc, char** argv) {
  NetworkCommandLine args;
  po::options_description visible(
      "Usage:\n  pcnn-sim golden IMAGES_DIR --input FILE [--output FILE.npy] [--dump-layers "
      "DIR]\n\n"
      "Runs the whole network of IMAGES_DIR (network.json from pcnn-prune) on one input\n"
      "with the golden integer network executor.\n\nOptions");
  visible.add_options()("help,h", "show this help");
  args.add_input(visible);
  args.add_output_and_dump_layers(visible);
  args.add_top(visible);
  args.add_input_shape(visible);
  const po::variables_map vm =
      pcnn::parse_command_line(argc, argv, visible, "images", args.images_dir);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-sim")) return 0;
  args.check_given("is required");
  args.check_outputs();
  const pcnn::GoldenNetwork net = load_network(args.images_dir, args.input_shape_text);
  const std::vector<std::int8_t> x = read_quantised_input(args.input_path, net);
  std::unique_ptr<LayerDump> dump;
  pcnn::TensorObserver observer;
  if (!args.dump_dir.empty()) {
    dump = std::make_unique<LayerDump>(args.dump_dir);
    observer = [&](const pcnn::NetNode& node, const pcnn::NetTensor& t,
                   const std::vector<std::int8_t>& v) { dump->add(node, t, v); };
  }
  const pcnn::GoldenOutput y = net.run(x, observer);
  if (dump) dump->finish();
  if (!args.output_path.empty())
    write_int8_tensor(args.output_path, net.network().tensors[net.network().output].name, y.values,
                      y.shape, y.scale, "--output");
  print_network_output(y.values, y.shape, y.scale, net.network().nodes.size(), args.top);
  return 0;
}
