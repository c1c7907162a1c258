#include "pcnn_sim_options.hpp"

#include <unistd.h>
#include <cstdio>
#include <iostream>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn_sim_network_io.hpp"

namespace po = boost::program_options;

void NetworkCommandLine::add_input(po::options_description& visible) {
  visible.add_options()("input", po::value(&input_path),
                        "the input: .npy (float32/uint8, NCHW or HWC), .pgm/.ppm/.png, or an "
                        "int8 PCNT tensor already at the input scale");
}

void NetworkCommandLine::add_output_and_dump_layers(po::options_description& visible) {
  visible.add_options()("output", po::value(&output_path),
                        "write the output int8 tensor as .npy (scale in FILE.json)")(
      "dump-layers", po::value(&dump_dir),
      "write every intermediate int8 tensor into this new folder (index.json lists them)");
}

void NetworkCommandLine::add_top(po::options_description& visible) {
  visible.add_options()("top", po::value(&top)->default_value(5),
                        "classes to print for a classifier");
}

void NetworkCommandLine::add_input_shape(po::options_description& visible) {
  visible.add_options()(
      "input-shape", po::value(&input_shape_text),
      "run a fully convolutional network at another input size, NxCxHxW (e.g. 1x3x64x64)");
}

void NetworkCommandLine::check_given(const std::string& input_missing) const {
  require_images_dir(images_dir);
  if (input_path.empty()) throw pcnn::UsageError("--input", input_missing);
  if (top < 1) throw pcnn::UsageError("--top", "must be at least 1");
}

std::vector<pcnn::RunPath> NetworkCommandLine::check_outputs(
    std::vector<pcnn::RunPath> more) const {
  std::vector<pcnn::RunPath> outputs;
  if (!output_path.empty()) {
    outputs.push_back({output_path, "--output"});
    outputs.push_back({output_path + ".json", "--output"});
  }
  outputs.insert(outputs.end(), more.begin(), more.end());
  for (const pcnn::RunPath& o : outputs) pcnn::check_output_path(o.path, o.what);
  if (!dump_dir.empty()) {
    check_dump_dir(dump_dir);
    outputs.push_back({dump_dir, "--dump-layers"});
  }
  return outputs;
}

void require_images_dir(const std::string& images_dir) {
  if (images_dir.empty())
    throw pcnn::UsageError("command line", "no IMAGES_DIR given (see --help)");
}

void add_act_mode_option(po::options_description& visible, std::string& text) {
  visible.add_options()("act-mode", po::value(&text)->default_value("off"),
                        "activation sparsity: off, gate or skip");
}

void add_max_cycles_option(po::options_description& visible, std::uint64_t& max_cycles) {
  visible.add_options()("max-cycles",
                        po::value(&max_cycles)->default_value(pcnn::kDefaultMaxCycles),
                        "stop with an error when simulated time passes this many clock cycles");
}

namespace {

// The parsers throw pcnn::Error; on the command line a bad value is a usage
// error (exit status 2).
template <class Parse>
auto as_usage_error(Parse parse, const std::string& text) {
  try {
    return parse(text);
  } catch (const pcnn::Error& e) {
    throw pcnn::UsageError(e.what());
  }
}

}  // namespace

pcnn::ActMode act_mode_option(const std::string& text) {
  return as_usage_error(pcnn::parse_act_mode, text);
}

pcnn::Timing timing_option(const std::string& text) {
  return as_usage_error(pcnn::parse_timing, text);
}

pcnn::ArchConfig read_arch_option(const std::string& arch_path, pcnn::SimOptions& options) {
  if (arch_path.empty()) return pcnn::ArchConfig();
  pcnn::ArchConfig arch = pcnn::read_arch_file(arch_path);
  options.arch_where = arch_path;
  return arch;
}

std::function<void(std::size_t done, std::size_t total)> terminal_progress(const char* unit) {
  if (!isatty(STDERR_FILENO)) return {};
  return [unit](std::size_t done, std::size_t total) {
    std::fprintf(stderr, "\r%zu/%zu %s", done, total, unit);
    if (done == total) std::fprintf(stderr, "\r%*s\r", 30, "");
  };
}
