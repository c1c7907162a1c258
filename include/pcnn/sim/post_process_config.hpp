#pragma once
// Timing and size parameters of the post-processing unit (models/post_process/,
// docs/architecture.md). Part of the architecture (`post_process` in the
// architecture JSON); defaults are the unit's chosen design.
#include <string>

namespace pcnn {

struct PostProcessConfig {
  int lanes = 32;                 // int8 elements (or window taps) per cycle
  int line_buffer_bytes = 16384;  // own SRAM; two halves, one filling while one computes
  int dram_burst_bytes = 256;     // largest DRAM transaction the unit issues
  int setup_cycles = 8;           // descriptor decode and pipeline fill, per op
  int register_write_cycles = 1;  // per 32-bit register word the host writes

  // Throws pcnn::Error("<where>: <key_prefix><key>: must be in lo..hi") for a
  // value out of its range.
  void validate(const std::string& where = "post-processing unit",
                const std::string& key_prefix = "") const;
};

}  // namespace pcnn
