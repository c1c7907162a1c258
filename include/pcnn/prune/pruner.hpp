#pragma once
// The offline PCNN pruner: from the float conv layers of a model to SpmLayers
// (patterns, SPM indices, int8 non-zeros, scales, requantisation) plus the
// pruned float weights for the output ONNX model. See docs/pruning.md and
// docs/quantisation.md.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/image/model_images.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/layer_settings.hpp"
#include "pcnn/prune/patterns.hpp"
#include "pcnn/prune/quantise.hpp"

namespace pcnn {

struct PruneOptions {
  int n = 4;                        // global non-zeros per 3x3 kernel
  int patterns = kPatternsDefault;  // global pattern budget V
  std::string layers_file;          // per-layer overrides; empty: none
  QuantGranularity quant = QuantGranularity::kPerChannel;
  int calib_samples = 2;            // 0: no calibration pass (unit activation range)
  std::uint64_t seed = 1;           // calibration inputs
  std::string reuse_patterns_file;  // report.json whose pattern tables are reused; empty: distil
  std::string calib_path;           // real calibration data (CalibrationInputs); empty: random
};

// How the activation scales were found.
struct CalibrationOutcome {
  std::string status;  // "random", "data", "off" (no pass asked for) or "failed"
  int samples = 0;     // inputs run
  std::string source;  // --calib path, or "N(0,1) seed S"
  std::string reason;  // why it failed: the float pass could not run the graph
  Calibration ranges;  // per conv and per tensor; empty unless calibrated
  bool calibrated() const { return status == "random" || status == "data"; }
};

// Per-layer projection error above which pcnn-prune warns that the pruned
// model needs fine-tuning (tools/finetune); measured in docs/accuracy.md.
constexpr double kProjectionErrorWarning = 0.10;

// What the pruner learnt about one layer, for the report.
struct LayerPruneStats {
  std::vector<PatternCount> nearest;   // Algorithm 1 histogram over F_n
  std::vector<std::int64_t> assigned;  // per SPM index: kernels projected onto it
  double weight_energy = 0.0;          // ||W||^2 of the BN-folded weights
  double removed_energy = 0.0;         // ||W - P(W)||^2
  double projection_error() const;     // ||W - P(W)|| / ||W||, 0 for an all-zero W
};

struct PrunedModel {
  ModelImages images;
  std::vector<LayerSetting> settings;
  std::vector<LayerPruneStats> stats;
  std::vector<std::vector<float>> pruned_weights;  // raw conv weights, mask applied
  std::vector<std::vector<float>> folded_bias;     // bias after BN folding, per layer
  CalibrationOutcome calibration;
  std::vector<std::string> notes;  // the model reader's decisions (OnnxModel::notes)
};

// Distillation, projection and weight quantisation of every conv. Activation
// scales are left at a unit range until apply_activation_ranges().
// `fixed_tables`, when not empty, gives every layer its pattern table (SPM
// index order) instead of distilling one; kernels are projected onto it.
PrunedModel prune_convs(const std::vector<FloatConv>& convs,
                        const std::vector<LayerSetting>& settings, QuantGranularity quant,
                        const std::vector<std::vector<PatternMask>>& fixed_tables = {});

// Sets input/output scales, int32 bias and requantisation from calibrated
// activation ranges (one per conv).
void apply_activation_ranges(PrunedModel& pruned, const std::vector<FloatConv>& convs,
                             const std::vector<ConvActivationRange>& ranges);

// A unit range (absmax 1 everywhere) for runs without calibration.
std::vector<ConvActivationRange> unit_activation_ranges(std::size_t convs);

struct PruneTimings {
  double prune_s = 0.0;        // settings, distillation, projection, quantisation
  double calibration_s = 0.0;  // float forward passes
};

// The whole pruning step on a loaded model. Throws pcnn::Error on a model
// without Conv nodes, bad options, a bad layers file or bad calibration data.
// A graph the float pass cannot run is not an error: the scales stay
// uncalibrated (unit ranges) and pruned.calibration says why.
PrunedModel prune_model(const OnnxModel& model, const PruneOptions& options,
                        PruneTimings* timings = nullptr);

}  // namespace pcnn
