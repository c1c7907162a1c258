#pragma once
// What pruning bought: per layer and for the whole model, the kept patterns,
// projection error, parameters, MACs and compression in the paper's fp32
// convention, in int8 storage and against an EIE-style CSC index.
// Conventions: docs/pruning.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pcnn/prune/pruner.hpp"

namespace pcnn {

// Storage of one layer (or a sum of layers); "positions" are the weights a
// layer stores: n per kernel (all K for a dense layer).
struct StorageCounts {
  std::int64_t kernels = 0;
  std::int64_t dense_weights = 0;        // K per kernel
  std::int64_t kept_weights = 0;         // n per kernel
  std::int64_t index_bits = 0;           // SPM index bits, ceil(log2 V) per kernel
  std::int64_t weight_image_bytes = 0;   // Weight SRAM rows actually stored (padding included)
  std::int64_t pattern_image_bytes = 0;  // packed SPM indices
  std::int64_t csc_entries = 0;          // EIE-style CSC: kept weights + padding zeros
  std::int64_t macs_dense = 0;
  std::int64_t macs_pruned = 0;

  StorageCounts& operator+=(const StorageCounts& o);

  // Paper convention: fp32 dense / (fp32 kept weights [+ SPM index bits]).
  double compression_weight_fp32() const;
  double compression_weight_idx_fp32() const;
  // The same with int8 weights.
  double compression_weight_int8() const;
  double compression_weight_idx_int8() const;
  // int8 dense bytes / bytes of weights.bin + patterns.bin actually written.
  double compression_stored_int8() const;
  // SPM index bits / kept int8 weight bits.
  double index_overhead_int8() const;
  // CSC: 4-bit relative index per entry; fp32 and int8 compression, index overhead.
  std::int64_t csc_index_bits() const { return 4 * csc_entries; }
  double compression_csc_fp32() const;
  double compression_csc_int8() const;
  double csc_index_overhead_int8() const;  // CSC index bits / kept int8 weight bits
};

// Storage of one pruned layer. CSC entries are counted per output channel
// (one column of C*K positions in ONNX order); a run of more than 15 zeros
// costs one padding entry per 16 zeros.
StorageCounts layer_storage(const SpmLayer& layer);

// The report as JSON (deterministic: no timings, no absolute paths beyond
// what the options hold).
nlohmann::json make_report(const PrunedModel& pruned, const PruneOptions& options);

// The readable table printed by pcnn-prune.
std::string format_report(const nlohmann::json& report);

// Paper Sec. IV-E: on-chip index memory = Pattern SRAM / Weight SRAM.
constexpr std::int64_t kPaperWeightSramBytes = 128 * 1024;
constexpr std::int64_t kPaperPatternSramBytes = 4 * 1024;

}  // namespace pcnn
