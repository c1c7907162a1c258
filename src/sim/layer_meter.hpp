#pragma once
// Statistics of one accelerator pass (a layer or a lowered layer's pass), from
// snapshots of the modules' counters taken when the host starts it and when its
// last result is in DRAM. Shared by simulate() and the whole-network run.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "models/accelerator/accelerator.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/sim/sim_types.hpp"
#include "pcnn/sim/stats_source.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace pcnn {

// Refuses a second elaboration in this process (SystemC cannot reset its
// context) and sets the report actions every simulation uses.
void claim_systemc_context();

class LayerMeter {
 public:
  LayerMeter(const Accelerator& acc, const ArchConfig& arch)
      : acc_(acc), arch_(arch), collector_(acc) {}
  void start();  // at the host's on_layer_start
  // At on_layer_end: the counts since start() and the modules' counter differences.
  LayerStats stop(const TilePlan& plan, nlohmann::json& module_stats) const;

 private:
  struct Snapshot {
    PeCoreStats pe;
    SramStats weight, pattern, data;
    DramStats dram;
  };
  Snapshot take() const;

  const Accelerator& acc_;
  const ArchConfig& arch_;
  StatsCollector collector_;
  Snapshot before_;
  nlohmann::json walk_before_;
};

// Adds the statistics of a further pass of the same layer (a lowered layer's
// passes); lane utilisation and energy are derived from the sums afterwards.
void add_pass_stats(LayerStats& s, const LayerStats& pass);

// The figures derived from a layer's (summed) counts: dense MACs, energy, lane utilisation.
void finish_layer_stats(LayerStats& s, std::int64_t dense_macs, const ResolvedEnergy& energy,
                        const ArchConfig& arch);

}  // namespace pcnn
