#include <chrono>

#include "pcnn/core/error.hpp"
#include "pcnn/prune/pattern_reuse.hpp"
#include "pcnn/prune/pruner.hpp"

// prune_model() lives apart from the pruning steps so that they can be used
// (and tested) without the ONNX reader.
namespace pcnn {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

PrunedModel prune_model(const OnnxModel& model, const PruneOptions& options,
                        PruneTimings* timings) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<FloatConv>& convs = model.convs();
  if (convs.empty()) throw Error(model.path(), "the model has no Conv node");
  if (options.calib_samples < 0) throw Error("--calib-samples", "must not be negative");
  PrunedModel pm;
  if (!options.reuse_patterns_file.empty()) {
    const ReusedPatterns reused = read_reused_patterns(options.reuse_patterns_file, convs);
    pm = prune_convs(convs, reused.settings, options.quant, reused.tables);
  } else {
    std::vector<LayerOverride> overrides;
    if (!options.layers_file.empty()) overrides = read_layer_overrides(options.layers_file);
    pm = prune_convs(convs, resolve_layer_settings(convs, options.n, options.patterns, overrides),
                     options.quant);
  }
  pm.images.model_name = model.graph_name();
  pm.images.source_file = base_name(model.path());
  double prune_s = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  std::vector<ConvActivationRange> ranges =
      options.calib_samples > 0
          ? model.calibrate(pm.pruned_weights, options.calib_samples, options.seed)
          : unit_activation_ranges(convs.size());
  const double calib_s = seconds_since(t1);

  const auto t2 = std::chrono::steady_clock::now();
  apply_activation_ranges(pm, convs, ranges);
  prune_s += seconds_since(t2);
  if (timings) {
    timings->prune_s = prune_s;
    timings->calibration_s = calib_s;
  }
  return pm;
}

}  // namespace pcnn
