// pcnn-zoo: writes the standard workloads as ONNX files, or lists them.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/onnx/model_zoo.hpp"

namespace po = boost::program_options;

namespace {

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t;
}

std::string sci(std::int64_t v) {
  // Three significant digits as the paper writes them: 1.47e7.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", static_cast<double>(v));
  std::string t(buf);
  const auto e = t.find('e');
  const int exponent = std::stoi(t.substr(e + 1));
  return t.substr(0, e) + "e" + std::to_string(exponent);
}

void list_models() {
  std::printf("%-20s %-12s %5s %11s %10s %10s  %s\n", "name", "input", "convs", "conv params",
              "conv MACs", "all params", "description");
  for (const auto& e : pcnn::zoo_models()) {
    const auto s = pcnn::build_zoo_model(e.name).summary();
    std::printf("%-20s %-12s %5d %11s %10s %10s  %s\n", e.name.c_str(),
                shape_text(s.input_shape).c_str(), s.conv_layers, sci(s.conv_params).c_str(),
                sci(s.conv_macs).c_str(), sci(s.params).c_str(), e.description.c_str());
  }
}

int run(int argc, char** argv) {
  std::string name;
  po::options_description visible(
      "Usage: pcnn-zoo NAME -o FILE.onnx [--seed S] | pcnn-zoo --list\nOptions");
  visible.add_options()("help,h", "show this help")(
      "list", "list the models with their conv layer, parameter and MAC counts")(
      "output,o", po::value<std::string>(), "ONNX file to write")(
      "seed", po::value<std::string>()->default_value("1"),
      "seed of the weights, 0..2^64-1 (same seed, same file)");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "name", name);
  if (vm.count("help")) {
    std::cout << visible << "\nModels:\n" << std::flush;
    for (const auto& e : pcnn::zoo_models())
      std::printf("  %-21s %s\n", e.name.c_str(), e.description.c_str());
    return 0;
  }
  if (vm.count("version")) return pcnn::print_version("pcnn-zoo");
  if (vm.count("list")) {
    list_models();
    return 0;
  }
  if (name.empty()) throw pcnn::UsageError("NAME", "missing model name (see --list)");
  if (!vm.count("output")) throw pcnn::UsageError("--output", "missing output file");
  const std::string seed_text = vm["seed"].as<std::string>();
  std::uint64_t seed = 0;
  try {
    if (seed_text.empty() || seed_text.find_first_not_of("0123456789") != std::string::npos)
      throw 0;
    seed = std::stoull(seed_text);
  } catch (...) {
    throw pcnn::UsageError("--seed", "'" + seed_text + "' is not an integer in 0..2^64-1");
  }
  const auto& known = pcnn::zoo_models();
  if (std::none_of(known.begin(), known.end(),
                   [&](const pcnn::ZooEntry& e) { return e.name == name; }))
    throw pcnn::UsageError(name, "unknown model (see --list)");
  pcnn::check_output_path(vm["output"].as<std::string>(), "--output");
  const auto model = pcnn::build_zoo_model(name, seed);
  model.write(vm["output"].as<std::string>());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return pcnn::run_program("pcnn-zoo", [&] { return run(argc, argv); });
}
