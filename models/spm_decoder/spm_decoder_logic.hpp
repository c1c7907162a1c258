#pragma once
// SPM decode as plain C++: an SPM index selects a K-bit weight mask from the
// Pattern Config table. A dense layer (no table) decodes to all K positions.
#include <cstdint>
#include <vector>

#include "pcnn/image/spm_layer.hpp"  // kPatternKernelPositions

namespace pcnn {

struct PatternTable {
  int kernel_size = kPatternKernelPositions;  // K
  int n = kPatternKernelPositions;            // non-zeros per kernel
  std::vector<std::uint16_t> masks;    // empty: dense layer

  bool dense() const { return masks.empty(); }
  std::uint16_t full_mask() const { return static_cast<std::uint16_t>((1u << kernel_size) - 1); }
  // Index beyond the table: the caller (decoder module) reports it; here it
  // decodes to 0 (no weights) so nothing out of bounds is touched.
  std::uint16_t decode(std::uint32_t index) const {
    if (dense()) return full_mask();
    return index < masks.size() ? masks[index] : 0;
  }
};

}  // namespace pcnn
