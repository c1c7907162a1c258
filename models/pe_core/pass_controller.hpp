#pragma once
// Pass controller of the PE group: sequences the (band, tile, group) passes of
// a layer. A pass starts with a kernel-register refill once stages 2 and 3 no
// longer use the registers and the weight chunk is in SRAM; it runs while its
// output positions flow through the pipeline; after the last group of a tile
// the partial sums are written back once the output buffer is free. It also
// says what a cycle without MACs was spent on. Plain C++.
#include <cstdint>

#include "models/pe_core/kernel_register.hpp"
#include "models/pe_core/pe_core_ports.hpp"
#include "models/pe_core/pe_layer.hpp"
#include "models/pe_core/stall_attribution.hpp"

namespace pcnn {

// The actions the controller starts; the core carries them out.
class PassActions {
 public:
  virtual ~PassActions() = default;
  virtual bool registers_in_use() const = 0;  // stage 2 or 3 holds a step
  virtual RefillTiming start_refill(int q) = 0;
  virtual std::uint64_t start_writeback(int q) = 0;  // Data SRAM cycles, at least 1
};

class PassController {
 public:
  enum class State { wait_refill, refilling, active, wait_writeback, writeback, done };

  void start_layer();
  // Cycle `cycle`, before the pipeline moves; sets reason().
  void step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports, PassActions& actions);
  // Stage 3 finished one position of the active pass; ends the pass after the last.
  void position_done(const PeLayer& L);
  // Whether step(cycle) may depend on the host beyond what the rings show now:
  // a buffer not yet ready (the host may fill it before `cycle`), or a release
  // or fill the host must see at its own time. False guarantees that calling
  // step(cycle) now gives what it gives at `cycle` (the fast mode runs ahead).
  bool needs_host(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports) const;

  State state() const { return state_; }
  int pass() const { return pass_; }
  StallReason reason() const { return reason_; }
  bool active() const { return state_ == State::active; }
  bool done() const { return state_ == State::done; }
  std::uint64_t refills() const { return refills_; }
  void reset_counters() { refills_ = 0; }

 private:
  State state_ = State::done;
  StallReason reason_ = nullptr;
  int pass_ = 0;
  int positions_done_ = 0;  // positions of the active pass through stage 3
  std::uint64_t phase_start_ = 0, phase_end_ = 0;
  std::uint64_t weight_cycles_ = 0, pattern_cycles_ = 0;
  std::uint64_t refills_ = 0;
};

}  // namespace pcnn
