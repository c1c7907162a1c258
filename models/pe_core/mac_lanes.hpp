#pragma once
// Stage 3 of the PE group, MAC lanes (paper Fig. 4a): every PE streams its
// effectual MACs lanes_per_pe a cycle, across kernel boundaries, into the
// partial sum of the step's output position. The arithmetic of a whole step is
// done when it enters the stage (integer sums are exact, so this equals a
// lane-by-lane accumulation); the stage then spends the step's cycles, which is
// where the timing comes from. Plain C++.
#include <cstdint>
#include <vector>

#include "models/pe_core/lane_dot.hpp"
#include "models/pe_core/partial_sums.hpp"
#include "models/pe_core/pointer_generator.hpp"

namespace pcnn {

class MacLanes {
 public:
  explicit MacLanes(int lanes) : lanes_(lanes) {}

  int lanes() const { return lanes_; }
  // Stage-3 cycles of a step: mode off and gate spend the cycles of every weight
  // non-zero of the group; skip the slowest PE's effectual MACs (`longest`, at
  // least one cycle).
  int step_cycles(const PeLayer& L, int q, int longest) const;
  // Sums the step's MACs of the `pes` active PEs into the partial sums of
  // output position `pos`; `first_group` steps overwrite (the clear). `group`
  // is the group's stream with every activation taken as non-zero, summed
  // over its weights at their window positions where the window's
  // activations are non-zero (lane_dot.hpp); `issued[pe]` the MACs the PE issues in this step (mode
  // off: all of them; gate and skip: those with a non-zero activation, whose products are the only
  // non-zero ones, so the sum over the whole stream is the same).
  void execute(const PointerStream& group, const std::uint16_t* issued, const std::int8_t* window,
               int pes, int pos, bool first_group, PartialSums& psums);

  std::uint64_t macs_issued() const { return issued_; }
  std::uint64_t macs_effectual() const { return effectual_; }
  void reset_counters() { issued_ = effectual_ = 0; }

 private:
  int lanes_;
  std::uint64_t issued_ = 0, effectual_ = 0;
  std::vector<LanePair> pairs_;     // the step's window pairs with a non-zero activation
  std::vector<std::int32_t> sums_;  // [column] the step's sums
};

}  // namespace pcnn
