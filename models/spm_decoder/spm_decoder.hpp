#pragma once
// SPM decoder (paper Fig. 3): turns the SPM index of a kernel into its K-bit
// weight mask through the table programmed into Pattern Config. Plain C++,
// combinational; the kernel register calls it for every kernel of a refill and
// it counts its decodes.
#include <algorithm>
#include <cstdint>

#include "models/spm_decoder/spm_decoder_logic.hpp"
#include "pcnn/core/error.hpp"

namespace pcnn {

class SpmDecoder {
 public:
  // An index beyond the table means a broken model (the images were checked):
  // it is an error, not a silent empty mask.
  std::uint16_t decode(const PatternTable& table, std::uint32_t index) {
    ++decodes_;
    if (!table.dense() && index >= table.masks.size())
      throw Error("top.pe_group.spm_decoder", "SPM index " + std::to_string(index) +
                                                  " beyond the Pattern Config table of " +
                                                  std::to_string(table.masks.size()));
    return table.decode(index);
  }
  // Decodes count indices of one refill, masks[i] for indices[i]: the same
  // decodes (and counts) as decode() one by one, by table.
  void decode_run(const PatternTable& table, const std::uint32_t* indices, int count,
                  std::uint16_t* masks) {
    if (table.dense()) {
      decodes_ += static_cast<std::uint64_t>(count);
      std::fill(masks, masks + count, table.full_mask());
      return;
    }
    const std::uint16_t* entries = table.masks.data();
    const std::uint32_t size = static_cast<std::uint32_t>(table.masks.size());
    for (int i = 0; i < count; ++i) {
      if (indices[i] >= size) {
        decodes_ += static_cast<std::uint64_t>(i);
        decode(table, indices[i]);  // throws, naming the index
      }
      masks[i] = entries[indices[i]];
    }
    decodes_ += static_cast<std::uint64_t>(count);
  }
  std::uint64_t decodes() const { return decodes_; }
  void reset_counters() { decodes_ = 0; }

 private:
  std::uint64_t decodes_ = 0;
};

}  // namespace pcnn
