#pragma once
// Pass controller of the PE group: sequences the (band, tile, group) passes of
// a layer. A pass runs once its kernel registers are loaded (a refill, which
// needs the weight chunk in SRAM), while its output positions flow through the
// pipeline; after the last group of a tile the partial sums are written back
// once the output buffer is free. It also says what a cycle without MACs was
// spent on. Plain C++.
//
// Register loads and passes are two sides of the controller. Single-buffered
// kernel registers load a pass's registers only when stages 2 and 3 no longer
// use them. Double-buffered ones (two register sets, used by alternate passes)
// load the next pass's set while the current pass computes, and the next pass
// starts the cycle the current one's last step leaves stage 3 (if it needs no
// write-back first).
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
  virtual void start_pass(int q) = 0;                // the pass's registers are in use from now on
  virtual std::uint64_t start_writeback(int q) = 0;  // Data SRAM cycles, at least 1
};

class PassController {
 public:
  enum class State { wait_refill, refilling, active, wait_writeback, writeback, done };

  void start_layer(bool double_buffered);
  // Cycle `cycle`, before the pipeline moves; sets reason().
  void step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports, PassActions& actions);
  // Stage 3 finished one position of the active pass; ends the pass after the last.
  void position_done(const PeLayer& L, PassActions& actions);
  // Edges after `cycle` in which the register-load side changes nothing (so the
  // MAC-only edges of an active pass may be booked at once).
  std::uint64_t quiet_edges(std::uint64_t cycle, const PeLayer& L) const;
  // A register load waits for its chunk while the pass side waits for something
  // else (the pipeline must then not sleep on one handshake alone).
  bool load_waits_apart() const;
  // Whether step(cycle) may depend on the host beyond what the rings show now:
  // a buffer not yet ready (the host may fill it before `cycle`), or a release
  // or fill the host must see at its own time. False guarantees that calling
  // step(cycle) now gives what it gives at `cycle` (the fast mode runs ahead).
  bool needs_host(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports) const;

  // The pass side; refilling: the pass waits for its registers, which are loading.
  State state() const {
    return state_ == State::wait_refill && loading_ && next_load_ == pass_ ? State::refilling
                                                                           : state_;
  }
  int pass() const { return pass_; }
  StallReason reason() const { return reason_; }
  bool active() const { return state_ == State::active; }
  bool done() const { return state_ == State::done; }
  std::uint64_t refills() const { return refills_; }
  void reset_counters() { refills_ = 0; }

 private:
  // The register-load side: starts and finishes loads; returns what the cycle
  // was spent on if the pass side waits for this load.
  StallReason load_step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports,
                        PassActions& actions);
  bool may_load(const PeLayer& L) const;

  bool double_buffered_ = false;
  // Pass side (state wait_refill / refilling is merged: see state()).
  State state_ = State::done;
  StallReason reason_ = nullptr;
  int pass_ = 0;
  int positions_done_ = 0;  // positions of the active pass through stage 3
  std::uint64_t writeback_end_ = 0;
  // Load side: passes below next_load_ have their registers loaded.
  int next_load_ = 0;
  bool loading_ = false;           // the registers of pass next_load_ are loading
  bool load_waits_chunk_ = false;  // a load may start but its chunk is not in SRAM
  std::uint64_t load_start_ = 0, load_end_ = 0;
  std::uint64_t weight_cycles_ = 0, pattern_cycles_ = 0;
  std::uint64_t refills_ = 0;
};

}  // namespace pcnn
