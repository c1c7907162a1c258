#include "models/pe_core/pass_controller.hpp"

#include <algorithm>

namespace pcnn {

void PassController::start_layer() {
  state_ = State::wait_refill;
  reason_ = nullptr;
  pass_ = 0;
  positions_done_ = 0;
}

void PassController::step(std::uint64_t cycle, const PeLayer& L, PeCorePorts& ports,
                          PassActions& actions) {
  reason_ = nullptr;
  switch (state_) {
    case State::wait_refill:
      if (actions.registers_in_use()) break;
      if (!ports.weight_chunk_ready(L.chunk_seq(pass_))) {
        reason_ = &StallCycles::dram;
        break;
      }
      {
        const RefillTiming t = actions.start_refill(pass_);
        weight_cycles_ = t.weight_cycles;
        pattern_cycles_ = t.pattern_cycles;
        phase_start_ = cycle;
        // Both SRAMs are read in parallel, then one cycle decodes and loads.
        phase_end_ = cycle + std::max(weight_cycles_, pattern_cycles_);
        state_ = State::refilling;
        ++refills_;
      }
      [[fallthrough]];
    case State::refilling: {
      const std::uint64_t k = cycle - phase_start_;
      reason_ = k < weight_cycles_                              ? &StallCycles::weight_sram
                : k < std::max(weight_cycles_, pattern_cycles_) ? &StallCycles::pattern_sram
                                                                : &StallCycles::register_refill;
      if (cycle >= phase_end_) {
        const int g = L.pass_group(pass_);
        if (g == L.plan->chunk_end_group(g / L.plan->groups_per_chunk) - 1)
          ports.release_weight_chunk();
        state_ = State::active;
        positions_done_ = 0;
      }
      break;
    }
    case State::wait_writeback:
      if (!ports.output_band_free(L.pass_band(pass_))) {
        reason_ = &StallCycles::dram;
        break;
      }
      phase_start_ = cycle;
      phase_end_ = cycle + actions.start_writeback(pass_) - 1;
      state_ = State::writeback;
      [[fallthrough]];
    case State::writeback:
      reason_ = &StallCycles::writeback;
      if (cycle >= phase_end_) {
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
  switch (state_) {
    case State::wait_refill:  // a ready chunk stays ready: only this side releases it
      return !ports.weight_chunk_ready(L.chunk_seq(pass_));
    case State::refilling:  // the last group of a chunk releases it
      return cycle >= phase_end_;
    case State::wait_writeback:
    case State::writeback:  // the output band is filled at the end
      return true;
    case State::active:
    case State::done:
      break;
  }
  return false;
}

void PassController::position_done(const PeLayer& L) {
  if (++positions_done_ < L.band_positions(L.pass_band(pass_))) return;
  if (L.pass_group(pass_) == L.plan->groups - 1) {
    state_ = State::wait_writeback;
  } else {
    ++pass_;
    state_ = State::wait_refill;
  }
}

}  // namespace pcnn
