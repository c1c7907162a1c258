#pragma once
// Kernel registers of the PE group (paper Fig. 4a): per PE one row of
// kernel_register_words 8-bit words holding the non-zeros of kpr kernels, and
// their weight masks. There are two register sets, used by alternate passes
// (pass q in set q % 2); with single-buffered registers only one is ever in use. A refill loads
// every PE's row with one Weight SRAM burst and the group's packed SPM indices with one Pattern
// SRAM burst, unpacks the indices and decodes each through the SPM decoder (Pattern Config's
// table). Plain C++.
#include <cstdint>
#include <vector>

#include "models/pe_core/kernel_placement.hpp"
#include "models/pe_core/pe_core_ports.hpp"
#include "models/pe_core/pe_layer.hpp"
#include "models/spm_decoder/spm_decoder.hpp"

namespace pcnn {

struct RefillTiming {
  std::uint64_t weight_cycles = 0;   // Weight SRAM burst
  std::uint64_t pattern_cycles = 0;  // Pattern SRAM burst (0 for a layer without indices)
  std::uint64_t weight_address = 0, pattern_address = 0;
};

class KernelRegister {
 public:
  KernelRegister(int pe_count, int words);

  void start_layer(const PeLayer& L);
  // Loads the registers of pass q's set (both bursts issued at once).
  RefillTiming refill(const PeLayer& L, int q, PeCorePorts& ports);

  // Pass q's register row and weight masks.
  const std::int8_t* row(int q, int pe) const {
    return &words_[q & 1][static_cast<std::size_t>(pe) * words_per_pe_];
  }
  std::uint16_t weight_mask(int q, int pe, int c) const {
    return masks_[q & 1][static_cast<std::size_t>(pe) * kpr_ + c];
  }
  // The SPM indices the masks were decoded from ([c], kpr per PE).
  const std::uint32_t* indices(int q, int pe) const {
    return &indices_[q & 1][static_cast<std::size_t>(pe) * kpr_];
  }
  // Weight operands the MAC lanes read from the registers.
  void count_reads(std::uint64_t words) { reads_ += words; }

  SpmDecoder spm_decoder;
  std::uint64_t write_bytes() const { return write_bytes_; }
  std::uint64_t reads() const { return reads_; }
  void reset_counters();

 private:
  int pe_count_, words_per_pe_;
  int kpr_ = 1;
  std::vector<std::int8_t> words_[2];      // [set][pe][words], then KernelPlacement::kReadAhead
  std::vector<std::uint16_t> masks_[2];    // [set][pe][kpr]
  std::vector<std::uint32_t> indices_[2];  // [set][pe][kpr]
  std::vector<std::uint8_t> index_burst_;  // packed SPM indices of one refill
  std::uint64_t write_bytes_ = 0, reads_ = 0;
};

}  // namespace pcnn
