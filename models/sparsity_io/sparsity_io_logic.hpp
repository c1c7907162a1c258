#pragma once
// Sparsity IO as plain C++ (paper Fig. 4b/4c). The sparsity mask is the weight
// mask AND the activation mask. Pointer offsets come from the NOT of a mask and
// an adder chain: offset[p] counts the zeros below position p, and the AND with
// the mask bit keeps it only where the mask is set. A set position p is then the
// (p - offset[p])-th entry of the compacted stream, so
//   activation pointer = p                       (into the window)
//   weight pointer     = p - weight_offset[p]    (into the kernel's non-zeros)
#include <cstdint>

#include "pcnn/image/spm_layer.hpp"  // kMaxKernelPositions

namespace pcnn {

// offsets[p] for p < K.
inline void pointer_offsets(std::uint32_t mask, int K, std::uint8_t* offsets) {
  int zeros = 0;  // running sum of NOT(mask) bits: the adder chain
  for (int p = 0; p < K; ++p) {
    const int bit = static_cast<int>((mask >> p) & 1u);
    offsets[p] = static_cast<std::uint8_t>(bit ? zeros : 0);  // the AND
    zeros += 1 - bit;
  }
}

// Effectual MACs of one kernel: writes act_pos[j] and weight_ptr[j] for every
// set bit of (weight_mask & act_mask) in ascending position; returns the count.
inline int sparsity_pointers(std::uint32_t weight_mask, std::uint32_t act_mask, int K,
                             std::uint8_t* act_pos, std::uint8_t* weight_ptr) {
  std::uint8_t woff[kMaxKernelPositions];
  std::uint8_t soff[kMaxKernelPositions];
  const std::uint32_t sparsity = weight_mask & act_mask;
  pointer_offsets(weight_mask, K, woff);
  pointer_offsets(sparsity, K, soff);
  int count = 0;
  for (int p = 0; p < K; ++p) {
    if (!((sparsity >> p) & 1u)) continue;
    const int j = p - soff[p];  // slot in the compacted stream
    act_pos[j] = static_cast<std::uint8_t>(p);
    weight_ptr[j] = static_cast<std::uint8_t>(p - woff[p]);
    ++count;
  }
  return count;
}

// The same pointers as sparsity_pointers(), computed by walking the set bits
// of the weight mask (its rank is the weight pointer): what the simulator runs
// per kernel; the adder-chain form above is the hardware's. The tests check both
// against a brute-force definition for every mask pair.
inline int walk_pointers(std::uint32_t weight_mask, std::uint32_t act_mask, std::uint8_t* act_pos,
                         std::uint8_t* weight_ptr) {
  int count = 0, rank = 0;
  for (std::uint32_t m = weight_mask; m != 0; m &= m - 1, ++rank) {
    const int p = __builtin_ctz(m);
    if (!((act_mask >> p) & 1u)) continue;
    act_pos[count] = static_cast<std::uint8_t>(p);
    weight_ptr[count] = static_cast<std::uint8_t>(rank);
    ++count;
  }
  return count;
}

}  // namespace pcnn
