#include <chrono>
#include <climits>
#include <exception>
#include <optional>

#include "pcnn/core/error.hpp"
#include "pcnn/core/failure_context.hpp"
#include "pcnn/network/input_file.hpp"
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
  if (convs.empty()) {
    std::string what = "the model has no Conv node";
    const auto& others = model.unsupported_convs();
    for (std::size_t i = 0; i < others.size(); ++i) what += (i ? ", " : " (it has ") + others[i];
    if (!others.empty()) what += ", which the accelerator does not run)";
    throw Error(model.path(), what);
  }
  if (options.calib_samples < 0) throw Error("--calib-samples", "must not be negative");
  // Listed (or, for a .npy batch, read) up front; a folder's files are read
  // one at a time during the calibration pass.
  std::optional<CalibrationInputs> calib_inputs;
  if (!options.calib_path.empty())
    calib_inputs = on_behalf_of(options.calib_path, "reading the calibration data", [&] {
      return CalibrationInputs(options.calib_path, model.input_shape());
    });
  if (calib_inputs && calib_inputs->size() > static_cast<std::size_t>(INT_MAX))
    throw Error(options.calib_path, "more than " + std::to_string(INT_MAX) + " inputs");
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
  pm.notes = model.notes();
  double prune_s = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  CalibrationOutcome& outcome = pm.calibration;
  std::vector<ConvActivationRange> ranges = unit_activation_ranges(convs.size());
  // A calibration that fails in the model leaves it uncalibrated (outcome
  // "failed"); a calibration file that cannot be read fails the run, as it
  // would have when read up front.
  std::exception_ptr input_failure;
  if (calib_inputs || options.calib_samples > 0) {
    try {
      if (calib_inputs) {
        outcome.source = options.calib_path;
        outcome.ranges = model.calibrate_with(
            pm.pruned_weights, static_cast<int>(calib_inputs->size()),
            [&](int i, std::vector<float>& x) {
              const auto item = static_cast<std::size_t>(i);
              try {
                x = on_behalf_of(calib_inputs->file(item), "reading the calibration data",
                                 [&] { return calib_inputs->read(item); });
              } catch (...) {
                input_failure = std::current_exception();
                throw;
              }
            });
        outcome.status = "data";
      } else {
        outcome.source = "N(0,1) seed " + std::to_string(options.seed);
        outcome.ranges =
            model.calibrate_random(pm.pruned_weights, options.calib_samples, options.seed);
        outcome.status = "random";
      }
      outcome.samples = outcome.ranges.samples;
      ranges = outcome.ranges.convs;
    } catch (const Error& e) {
      if (input_failure) std::rethrow_exception(input_failure);
      outcome.status = "failed";
      outcome.reason = e.what();
      outcome.ranges = Calibration{};
    }
  } else {
    outcome.status = "off";
  }
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
