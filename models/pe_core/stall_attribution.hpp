#pragma once
// Stall attribution of the PE group: every clock cycle in which stage 3 issues
// no MAC is booked to exactly one reason (docs/architecture.md, "Statistics").
// The pass controller's phase decides first (refill, write-back, waiting for a
// DMA move); otherwise the state of stages 1 and 2 does. The reasons are the
// counters of StallCycles, named and described once in kStallReasons
// (pcnn/sim/stats_schema.hpp). Plain C++.
#include <cstdint>

#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

// What the pass controller was doing in a cycle without MACs: the StallCycles
// counter its phase books the cycle to, or nullptr when the pipeline decides.
using StallReason = std::uint64_t StallCycles::*;

// The pipeline as stall attribution sees it at the end of a cycle.
struct PipelineView {
  bool s1_valid = false;      // a window is in (or on its way into) stage 1
  bool s1_first = false;      // ... and it is the first position of its pass
  bool s2_valid = false;      // pointers are being generated
  bool s1_wait_dram = false;  // stage 1 waits for an input band
  bool ctrl_active = false;   // the controller runs a pass (registers loaded)
};

// The counter a cycle without MACs is booked to.
inline StallReason stall_reason(StallReason controller_reason, const PipelineView& v) {
  if (controller_reason != nullptr) return controller_reason;
  if (v.s2_valid) return &StallCycles::fill_drain;
  if (v.s1_valid)
    return v.s1_first || !v.ctrl_active ? &StallCycles::fill_drain : &StallCycles::data_sram;
  if (v.s1_wait_dram) return &StallCycles::dram;
  return &StallCycles::fill_drain;
}

inline void attribute_stall(StallReason controller_reason, const PipelineView& v, StallCycles& s) {
  ++(s.*stall_reason(controller_reason, v));
}

}  // namespace pcnn
