#pragma once
// Re-encoding with the pattern sets of an earlier run (pcnn-prune
// --reuse-patterns REPORT.json): a model fine-tuned on the kept patterns of a
// report is pruned again with exactly those pattern tables, so n, V and the
// patterns stay what the fine-tuning kept every kernel on (docs/accuracy.md).
#include <string>
#include <vector>

#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/layer_settings.hpp"
#include "pcnn/prune/patterns.hpp"

namespace pcnn {

struct ReusedPatterns {
  std::vector<LayerSetting> settings;  // n and V per conv, from the report
  std::vector<std::vector<PatternMask>>
      tables;  // kept patterns in SPM index order; empty when dense
};

// Reads the layers of a pcnn-prune report.json and matches them to `convs` in
// order: the layer count, each layer's shape (channels, kernel, group) and
// whether it is pattern-pruned must agree; masks must have exactly n bits
// inside the kernel and be distinct. Errors name the report and the layer.
ReusedPatterns read_reused_patterns(const std::string& report_path,
                                    const std::vector<FloatConv>& convs);

}  // namespace pcnn
