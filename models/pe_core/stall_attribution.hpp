#pragma once
// Stall attribution of the PE group: every clock cycle in which stage 3 issues
// no MAC is booked to exactly one reason (docs/architecture.md, "Statistics").
// The pass controller's phase decides first (refill, write-back, waiting for a
// DMA move); otherwise the state of stages 1 and 2 does. Plain C++.
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

// What the pass controller was doing in a cycle without MACs.
enum class StallReason { none, weight, pattern, refill, writeback, dram };

// The pipeline as stall attribution sees it at the end of a cycle.
struct PipelineView {
  bool s1_valid = false;      // a window is in (or on its way into) stage 1
  bool s1_first = false;      // ... and it is the first position of its pass
  bool s2_valid = false;      // pointers are being generated
  bool s1_wait_dram = false;  // stage 1 waits for an input band
  bool ctrl_active = false;   // the controller runs a pass (registers loaded)
};

inline void attribute_stall(StallReason reason, const PipelineView& v, StallCycles& s) {
  switch (reason) {
    case StallReason::weight:
      ++s.weight_sram;
      return;
    case StallReason::pattern:
      ++s.pattern_sram;
      return;
    case StallReason::refill:
      ++s.register_refill;
      return;
    case StallReason::writeback:
      ++s.writeback;
      return;
    case StallReason::dram:
      ++s.dram;
      return;
    case StallReason::none:
      break;
  }
  if (v.s2_valid) {
    ++s.fill_drain;
  } else if (v.s1_valid) {
    if (v.s1_first || !v.ctrl_active)
      ++s.fill_drain;
    else
      ++s.data_sram;
  } else if (v.s1_wait_dram) {
    ++s.dram;
  } else {
    ++s.fill_drain;
  }
}

}  // namespace pcnn
