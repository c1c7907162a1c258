#pragma once
// Sparsity IO (paper Fig. 4b/4c): for one PE and one kernel, ANDs the weight
// mask with the activation mask and turns the sparsity mask into pointers into
// the kernel register and the activation window. Combinational; stage 2 of the
// PE group calls it for every PE and kernel of a step.
#include <cstdint>

#include <systemc>

#include "models/sparsity_io/sparsity_io_logic.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

class SparsityIo : public sc_core::sc_module, public StatsSource {
 public:
  explicit SparsityIo(const sc_core::sc_module_name& name) : sc_core::sc_module(name) {}

  int pointers(std::uint32_t weight_mask, std::uint32_t act_mask, int K, std::uint8_t* act_pos,
               std::uint8_t* weight_ptr) {
    ++evaluations_;
    return sparsity_pointers(weight_mask, act_mask, K, act_pos, weight_ptr);
  }
  std::uint64_t evaluations() const { return evaluations_; }
  void reset_stats() { evaluations_ = 0; }
  nlohmann::json stats_json() const override { return {{"kernel_evaluations", evaluations_}}; }

 private:
  std::uint64_t evaluations_ = 0;
};

}  // namespace pcnn
