#pragma once
// Sparsity IO (paper Fig. 4b/4c): for one PE and one kernel, ANDs the weight
// mask with the activation mask and turns the sparsity mask into pointers into
// the kernel register and the activation window. Plain C++, combinational; the
// pointer generator calls it for every PE and kernel and counts the
// evaluations (one pointer generation each).
#include <cstdint>

#include "models/sparsity_io/sparsity_io_logic.hpp"

namespace pcnn {

class SparsityIo {
 public:
  int pointers(std::uint32_t weight_mask, std::uint32_t act_mask, int K, std::uint8_t* act_pos,
               std::uint8_t* weight_ptr) {
    ++generations_;
    return sparsity_pointers(weight_mask, act_mask, K, act_pos, weight_ptr);
  }
  // Evaluations the pointer generator made without calling pointers() itself.
  void count(std::uint64_t evaluations) { generations_ += evaluations; }
  std::uint64_t generations() const { return generations_; }
  void reset_counters() { generations_ = 0; }

 private:
  std::uint64_t generations_ = 0;
};

}  // namespace pcnn
