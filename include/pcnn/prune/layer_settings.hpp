#pragma once
// Which n and pattern budget V each conv layer gets: a global default plus
// per-layer overrides from a JSON file (schema in docs/pruning.md).
#include <optional>
#include <string>
#include <vector>

#include "pcnn/image/spm_layer.hpp"  // kPatternKernelPositions
#include "pcnn/onnx/onnx_model.hpp"

namespace pcnn {

// Pattern budget: a count 1..C(K, n), or one of these.
constexpr int kPatternsDefault = 0;  // min(16, C(K, n))
constexpr int kPatternsFull = -1;    // C(K, n): the whole candidate set

// One entry of the layers file, selecting a layer by name or by index.
struct LayerOverride {
  std::string where;  // "layers.json: layers[2]", for messages
  std::optional<std::string> name;
  std::optional<int> index;
  std::optional<int> n;
  std::optional<int> patterns;  // count, or kPatternsFull
  bool dense = false;           // keep the layer dense (no pattern pruning)
};

// Reads and checks the layers file: unknown keys, wrong types and impossible
// values are errors naming the file and the key.
std::vector<LayerOverride> read_layer_overrides(const std::string& path);

// The resolved setting of one conv layer.
struct LayerSetting {
  bool pattern_pruned = true;
  int n = kPatternKernelPositions;  // non-zeros per kernel; K when dense
  int patterns = 0;          // V; 0 when dense (no pattern table)
  std::string dense_reason;  // why the layer stays dense; empty when pruned
};

// Checks --n / --patterns and applies the overrides (each must name an
// existing conv layer, at most one override per layer).
std::vector<LayerSetting> resolve_layer_settings(const std::vector<FloatConv>& convs, int global_n,
                                                 int global_patterns,
                                                 const std::vector<LayerOverride>& overrides);

// "--patterns" text: a positive integer or "full".
int parse_pattern_budget(const std::string& text, const std::string& where);

}  // namespace pcnn
