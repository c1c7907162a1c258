// pcnn-prune: prunes every 3x3 conv of an ONNX model to PCNN form and writes
// the SPM memory images, the pruned ONNX model and a report (docs/pruning.md).
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/printable.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/image/staging_dir.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "pcnn/prune/report.hpp"

namespace po = boost::program_options;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(int argc, char** argv) {
  std::string model_path, out_dir, patterns_text = "default", quant_text = "per-channel",
                                   input_shape_text;
  pcnn::PruneOptions opt;
  po::options_description visible("pcnn-prune MODEL.onnx -o OUT_DIR [options]");
  // clang-format off
  visible.add_options()
      ("help,h", "show this help")
      ("output,o", po::value(&out_dir),
       "output directory (written atomically; replaces only an earlier output of pcnn-prune)")
      ("n", po::value(&opt.n)->default_value(4), "non-zeros per 3x3 kernel, 1..9")
      ("patterns", po::value(&patterns_text)->default_value("default"),
       "pattern budget V per layer: 1..C(9,n), 'full', or 'default' = min(16, C(9,n))")
      ("layers", po::value(&opt.layers_file), "per-layer overrides (JSON, see docs/pruning.md)")
      ("quant", po::value(&quant_text)->default_value("per-channel"),
       "weight scale granularity: per-channel or per-layer")
      ("calib-samples", po::value(&opt.calib_samples)->default_value(opt.calib_samples),
       "random N(0,1) inputs for activation calibration; 0 = no calibration (unit ranges)")
      ("seed", po::value(&opt.seed)->default_value(opt.seed), "seed of the calibration inputs")
      ("reuse-patterns", po::value(&opt.reuse_patterns_file),
       "take n, V and every layer's pattern table from this report.json (re-encoding a"
       " fine-tuned model); excludes --n, --patterns and --layers")
      ("calib", po::value(&opt.calib_path),
       "calibrate on real data: a directory of .npy/.pgm/.ppm/.png inputs, a .npy batch or one file")
      ("input-shape", po::value(&input_shape_text),
       "shape of the graph input, NxCxHxW (e.g. 1x3x64x64), for models with free dimensions");
  // clang-format on
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "model", model_path);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-prune")) return 0;
  if (model_path.empty())
    throw pcnn::UsageError("command line", "no MODEL.onnx given (see --help)");
  if (out_dir.empty())
    throw pcnn::UsageError("command line", "no output directory given (-o OUT_DIR)");
  if (quant_text == "per-channel")
    opt.quant = pcnn::QuantGranularity::kPerChannel;
  else if (quant_text == "per-layer")
    opt.quant = pcnn::QuantGranularity::kPerLayer;
  else
    throw pcnn::UsageError("--quant", "'" + quant_text + "' is neither per-channel nor per-layer");
  if (opt.calib_samples < 0) throw pcnn::UsageError("--calib-samples", "must not be negative");
  if (!opt.reuse_patterns_file.empty())
    for (const char* fixed : {"n", "patterns", "layers"})
      if (vm.count(fixed) && !vm[fixed].defaulted())
        throw pcnn::UsageError("--reuse-patterns",
                               std::string("the report fixes the patterns; drop --") + fixed);
  // Bad --n or --patterns values are usage errors, found before the work starts.
  try {
    if (patterns_text != "default")
      opt.patterns = pcnn::parse_pattern_budget(patterns_text, "--patterns");
    pcnn::resolve_layer_settings({}, opt.n, opt.patterns, {});
  } catch (const pcnn::Error& e) {
    throw pcnn::UsageError(e.what());
  }
  pcnn::LoadOptions load_options;
  if (!input_shape_text.empty()) try {
      load_options.input_shape = pcnn::parse_input_shape(input_shape_text, "--input-shape");
    } catch (const pcnn::Error& e) {
      throw pcnn::UsageError(e.what());
    }

  // An unusable output directory, or one that holds the input, fails before the work starts too.
  pcnn::check_outputs_apart({{model_path, "MODEL"}, {opt.layers_file, "--layers"}},
                            {{out_dir, "-o"}});
  pcnn::StagingDirectory staging(out_dir,
                                 {"pruned.onnx", "report.json", "network.json", "network.bin"});

  auto t0 = std::chrono::steady_clock::now();
  const pcnn::OnnxModel model = pcnn::OnnxModel::load(model_path, load_options);
  const double load_s = seconds_since(t0);

  pcnn::PruneTimings timings;
  pcnn::PrunedModel pruned = pcnn::prune_model(model, opt, &timings);

  t0 = std::chrono::steady_clock::now();
  pcnn::write_model_image_files(pruned.images, staging.path());
  model.save_with_conv_weights(pruned.pruned_weights, staging.file("pruned.onnx"));
  // The whole network in int8 form, for whole-network runs (docs/quantisation.md).
  nlohmann::json network_entry;
  try {
    if (!pruned.calibration.calibrated())
      throw pcnn::Error("the activation scales are not calibrated");
    pcnn::Int8Network net = model.int8_network(pruned.images.layers, pruned.calibration.ranges);
    net.images_identity = pruned.images.identity;
    pcnn::write_int8_network_files(net, staging.path());
    network_entry = {{"written", true},
                     {"operators", net.nodes.size()},
                     {"gemm_layers", net.gemm_layers.size()},
                     {"dropped_softmax", net.dropped_softmax}};
  } catch (const pcnn::Error& e) {
    network_entry = {{"written", false}, {"reason", e.what()}};
  }
  nlohmann::json report = pcnn::make_report(pruned, opt);
  report["network"] = network_entry;
  pcnn::write_file_synced(staging.file("report.json"), pcnn::json_text(report) + "\n");
  staging.commit();
  const double write_s = seconds_since(t0);

  std::cout << pcnn::format_report(report);
  if (network_entry["written"].get<bool>())
    std::printf("network: network.json with %zu int8 operators (whole-network runs)\n",
                network_entry["operators"].get<std::size_t>());
  else
    std::printf("network: not described, so no whole-network runs: %s\n",
                pcnn::printable(network_entry["reason"].get<std::string>()).c_str());
  std::printf("wrote %s (images %s)\n", pcnn::printable(out_dir).c_str(),
              pruned.images.identity.c_str());
  std::printf("time: load %.3f s, prune %.3f s, calibration %.3f s (%d samples), write %.3f s\n",
              load_s, timings.prune_s, timings.calibration_s, pruned.calibration.samples, write_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return pcnn::run_program("pcnn-prune", [&] { return run(argc, argv); });
}
