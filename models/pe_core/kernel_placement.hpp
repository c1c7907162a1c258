#pragma once
// Where stage 2 lays a group's weights out for the MAC lanes (lane_dot.hpp):
// a PE's row holds, at window position c*K + p, the register word c*n + r,
// where r is the rank of bit p in kernel c's weight mask (zero where the mask
// has no bit). The layer's table gives, per SPM index (its mask in Pattern
// Config's table), where each rank goes, so a kernel is placed by one lookup
// instead of a walk over its mask bits; with SSSE3/SSE4.1 it is one byte
// shuffle and two widening stores. Plain C++.
#include <cstdint>
#include <vector>

#include "models/spm_decoder/spm_decoder_logic.hpp"

namespace pcnn {

class KernelPlacement {
 public:
  // Bytes a register row may be read beyond its last kernel's first word (the
  // kernel registers are padded by this much).
  static constexpr int kReadAhead = 16;

  // The running layer's table: one entry per SPM index (a dense layer: one,
  // every position).
  void start_layer(const PatternTable& table);
  // Writes row[0 .. span): kernel c (SPM index indices[c], its non-zeros from
  // reg[c * n]) at positions c*K .. c*K + K - 1, zeros elsewhere; span >= cg*K.
  // The indices must be inside the table (the SPM decoder has checked them).
  // Returns the weights placed: the kernels' mask bits.
  int place_row(const std::int8_t* reg, int n, const std::uint32_t* indices, int cg,
                std::int16_t* row, int span) const;
  // The same by the plain table loop (the fallback without SSE4.1; the tests
  // compare both against a walk over the mask bits).
  int place_row_scalar(const std::int8_t* reg, int n, const std::uint32_t* indices, int cg,
                       std::int16_t* row, int span) const;
  bool vectorised() const { return vector_; }

 private:
  int K_ = 0;
  std::vector<std::uint8_t> count_;      // [index] bits of the mask
  std::vector<std::uint8_t> positions_;  // [index][16] position of rank r
  std::vector<std::uint8_t> shuffle_;    // [index][16] rank at position p, 0x80: no weight
  bool vector_ = false;
};

}  // namespace pcnn
