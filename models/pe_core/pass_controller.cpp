#include "models/pe_core/pass_controller.hpp"

#include <algorithm>

namespace pcnn {

void PassController::start_layer(bool double_buffered) {
  double_buffered_ = double_buffered;
  state_ = State::wait_refill;
  reason_ = nullptr;
  pass_ = 0;
  positions_done_ = 0;
  next_load_ = 0;
  loading_ = false;
  load_waits_chunk_ = false;
}

// Whether the registers of pass next_load_ may start loading (a set is free).
bool PassController::may_load(const PeLayer& L) const {
  if (loading_ || next_load_ >= L.passes || state_ == State::done) return false;
  if (double_buffered_) return next_load_ <= pass_ + 1;  // the other set: pass_ - 1 is over
  return next_load_ == pass_ && state_ == State::wait_refill;
}

StallReason PassController::load_step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports,
                                      PassActions& actions) {
  const bool for_pass = next_load_ == pass_ && state_ == State::wait_refill;
  load_waits_chunk_ = false;
  if (may_load(L)) {
    if (!double_buffered_ && actions.registers_in_use()) return nullptr;
    if (!ports.weight_chunk_ready(L.chunk_seq(next_load_))) {
      load_waits_chunk_ = true;
      return for_pass ? &StallCycles::dram : nullptr;
    }
    const RefillTiming t = actions.start_refill(next_load_);
    weight_cycles_ = t.weight_cycles;
    pattern_cycles_ = t.pattern_cycles;
    load_start_ = cycle;
    // Both SRAMs are read in parallel, then one cycle decodes and loads.
    load_end_ = cycle + std::max(weight_cycles_, pattern_cycles_);
    loading_ = true;
    ++refills_;
  }
  if (!loading_) return nullptr;
  const std::uint64_t k = cycle - load_start_;
  const StallReason r = k < weight_cycles_ ? &StallCycles::weight_sram
                        : k < std::max(weight_cycles_, pattern_cycles_)
                            ? &StallCycles::pattern_sram
                            : &StallCycles::register_refill;
  if (cycle >= load_end_) {
    const int g = L.pass_group(next_load_);
    if (g == L.plan->chunk_end_group(g / L.plan->groups_per_chunk) - 1)
      ports.release_weight_chunk();
    loading_ = false;
    ++next_load_;
  }
  return for_pass ? r : nullptr;
}

void PassController::step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports,
                          PassActions& actions) {
  reason_ = load_step(cycle, L, ports, actions);
  switch (state_) {
    case State::wait_refill:
    case State::refilling:
      if (pass_ < next_load_) {  // registers loaded (in this cycle or before)
        state_ = State::active;
        positions_done_ = 0;
        actions.start_pass(pass_);
      }
      break;
    case State::wait_writeback:
      if (!ports.output_band_free(L.pass_band(pass_))) {
        reason_ = &StallCycles::dram;
        break;
      }
      writeback_end_ = cycle + actions.start_writeback(pass_) - 1;
      state_ = State::writeback;
      [[fallthrough]];
    case State::writeback:
      reason_ = &StallCycles::writeback;
      if (cycle >= writeback_end_) {
        if (L.pass_tile(pass_) == L.plan->tiles - 1) ports.fill_output_band();
        if (pass_ + 1 == L.passes) {
          state_ = State::done;
        } else {
          ++pass_;
          state_ = State::wait_refill;
        }
      }
      break;
    case State::active:
    case State::done:
      break;
  }
}

bool PassController::needs_host(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports) const {
  // A load that may start: a ready chunk stays ready (only this side releases it).
  if (may_load(L) && !ports.weight_chunk_ready(L.chunk_seq(next_load_))) return true;
  if (loading_ && cycle >= load_end_) return true;  // the last group of a chunk releases it
  // The output band is filled at the end of a write-back.
  return state_ == State::wait_writeback || state_ == State::writeback;
}

std::uint64_t PassController::quiet_edges(std::uint64_t cycle, const PeLayer& L) const {
  if (loading_) return load_end_ > cycle + 1 ? load_end_ - cycle - 1 : 0;
  if (may_load(L)) return 0;  // a load starts (or polls its chunk) on the next edge
  return UINT64_MAX;
}

bool PassController::load_waits_apart() const {
  return load_waits_chunk_ && !(next_load_ == pass_ && state_ == State::wait_refill);
}

void PassController::position_done(const PeLayer& L, PassActions& actions) {
  if (++positions_done_ < L.band_positions(L.pass_band(pass_))) return;
  if (L.pass_group(pass_) == L.plan->groups - 1) {
    state_ = State::wait_writeback;
    return;
  }
  ++pass_;
  state_ = State::wait_refill;
  if (pass_ < next_load_) {  // double-buffered: the other set is loaded, swap now
    state_ = State::active;
    positions_done_ = 0;
    actions.start_pass(pass_);
  }
}

}  // namespace pcnn
