// pcnn-zoo: writes the standard workloads as ONNX files, or lists them.
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "pcnn/core/error.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  po::options_description visible(
      "Usage: pcnn-zoo NAME -o FILE.onnx [--seed S] | pcnn-zoo --list\nOptions");
  visible.add_options()("help,h", "show this help")(
      "list", "list the models with their conv layer, parameter and MAC counts")(
      "output,o", po::value<std::string>(), "ONNX file to write")(
      "seed", po::value<std::string>()->default_value("1"),
      "seed of the weights, 0..2^64-1 (same seed, same file)");
  po::options_description all;
  all.add(visible).add_options()("name", po::value<std::string>(), "model name");
  po::positional_options_description positional;
  positional.add("name", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << visible << "\nModels:\n" << std::flush;
      for (const auto& e : pcnn::zoo_models())
        std::printf("  %-21s %s\n", e.name.c_str(), e.description.c_str());
      return 0;
    }
    if (vm.count("list")) {
      list_models();
      return 0;
    }
    if (!vm.count("name")) throw pcnn::Error("NAME", "missing model name (see --list)");
    if (!vm.count("output")) throw pcnn::Error("--output", "missing output file");
    const std::string seed_text = vm["seed"].as<std::string>();
    std::uint64_t seed = 0;
    try {
      std::size_t used = 0;
      if (seed_text.empty() || seed_text.find_first_not_of("0123456789") != std::string::npos)
        throw 0;
      seed = std::stoull(seed_text, &used);
    } catch (...) {
      throw pcnn::Error("--seed", "'" + seed_text + "' is not an integer in 0..2^64-1");
    }
    const auto model = pcnn::build_zoo_model(vm["name"].as<std::string>(), seed);
    model.write(vm["output"].as<std::string>());
    return 0;
  } catch (const po::error& e) {
    std::cerr << "pcnn-zoo: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "pcnn-zoo: " << e.what() << "\n";
  }
  return 1;
}
