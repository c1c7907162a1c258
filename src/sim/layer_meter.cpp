#include "src/sim/layer_meter.hpp"

#include <cmath>
#include <cstdlib>

#include <systemc>

#include "pcnn/core/error.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

namespace {

TrafficStats diff(const SramStats& after, const SramStats& before) {
  return {after.bytes_read - before.bytes_read, after.bytes_written - before.bytes_written};
}

// The PE group's register-file and datapath actions in one pass, from its
// blocks' counters in the module walk (models/pe_core).
DatapathActions pass_actions(const nlohmann::json& pe_group) {
  struct Counter {
    std::uint64_t DatapathActions::*member;
    const char* block;
    const char* counter;
  };
  static const Counter kCounters[] = {
      {&DatapathActions::kernel_register_write_bytes, "kernel_register", "write_bytes"},
      {&DatapathActions::kernel_register_reads, "kernel_register", "reads"},
      {&DatapathActions::window_write_bytes, "window_register", "write_bytes"},
      {&DatapathActions::window_shift_bytes, "window_register", "shift_bytes"},
      {&DatapathActions::window_reads, "window_register", "reads"},
      {&DatapathActions::psum_reads, "partial_sums", "reads"},
      {&DatapathActions::psum_writes, "partial_sums", "writes"},
      {&DatapathActions::pointer_generations, "pointer_generator", "generations"},
      {&DatapathActions::requantisations, "requantiser", "requantisations"}};
  DatapathActions a;
  for (const Counter& c : kCounters)
    a.*c.member = pe_group.at(c.block).at(c.counter).get<std::uint64_t>();
  return a;
}

}  // namespace

// SystemC elaborates once per process: the simulation context cannot be reset
// after sc_start(). A second simulate() in the same process is refused rather
// than run in a half-used context; simulate_in_child() forks for each run.
void claim_systemc_context() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // keep program output clean
  static bool claimed = false;
  if (claimed || sc_core::sc_start_of_simulation_invoked() ||
      !sc_core::sc_get_top_level_objects().empty())
    throw Error("simulation",
                "one simulation per process: this process has already elaborated a SystemC "
                "model (run further simulations with simulate_in_child())");
  claimed = true;
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_ERROR, sc_core::SC_THROW);
}

LayerMeter::Snapshot LayerMeter::take() const {
  return {acc_.pe_group.stats(), acc_.weight_sram.stats(), acc_.pattern_sram.stats(),
          acc_.data_sram.stats(), acc_.dram.stats()};
}

void LayerMeter::start() {
  before_ = take();
  walk_before_ = collector_.collect();
}

LayerStats LayerMeter::stop(const TilePlan& plan, nlohmann::json& module_stats) const {
  const Snapshot after = take();
  const Snapshot& b = before_;
  LayerStats s;
  const PeCoreStats& pa = after.pe;
  const PeCoreStats& pb = b.pe;
  const double period = arch_.clock_period_ns();
  // Cycles after the PE group finished: the last band's results moving to DRAM.
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const auto tail = static_cast<std::uint64_t>(
      std::llround((now - acc_.pe_group.done_time()).to_seconds() * 1e9 / period));
  s.mac_cycles = pa.mac_cycles - pb.mac_cycles;
  for (const StallReasonField& f : kStallReasons)
    s.stalls.*f.cycles = pa.stalls.*f.cycles - pb.stalls.*f.cycles;
  s.stalls.dram += tail;
  s.cycles = pa.cycles - pb.cycles + tail;
  s.time_ns = static_cast<double>(s.cycles) * period;
  s.macs_issued = pa.macs_issued - pb.macs_issued;
  s.macs_effectual = pa.macs_effectual - pb.macs_effectual;
  s.refills = pa.refills - pb.refills;
  s.steps = pa.steps - pb.steps;
  s.pattern_decodes = pa.spm_decodes - pb.spm_decodes;
  s.bands = static_cast<int>(plan.bands.size());
  s.tiles = plan.tiles;
  s.groups = plan.groups;
  s.chunks = s.bands * plan.tiles * plan.chunks_per_tile;
  s.spatially_tiled = s.bands > 1;
  s.weight_sram = diff(after.weight, b.weight);
  s.pattern_sram = diff(after.pattern, b.pattern);
  s.data_sram = diff(after.data, b.data);
  s.dram = {after.dram.bytes_read - b.dram.bytes_read,
            after.dram.bytes_written - b.dram.bytes_written};
  module_stats = stats_difference(collector_.collect(), walk_before_);
  s.actions = pass_actions(module_stats.at(acc_.pe_group.name()));
  return s;
}

void add_pass_stats(LayerStats& s, const LayerStats& p) {
  add_counts(s, p);
  s.bands = std::max(s.bands, p.bands);
  s.tiles += p.tiles;
  s.groups = std::max(s.groups, p.groups);
  s.chunks += p.chunks;
  s.spatially_tiled = s.spatially_tiled || p.spatially_tiled;
  s.passes += p.passes;
}

void finish_layer_stats(LayerStats& s, std::int64_t dense_macs, const ResolvedEnergy& energy,
                        const ArchConfig& arch) {
  s.dense_macs = dense_macs;
  s.energy = layer_energy(s, energy);
  s.lane_utilisation = s.cycles
                           ? static_cast<double>(s.macs_issued) /
                                 (static_cast<double>(s.cycles) * arch.pe_count * arch.lanes_per_pe)
                           : 0.0;
}

}  // namespace pcnn
