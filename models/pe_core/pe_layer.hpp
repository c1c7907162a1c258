#pragma once
// The running layer as every block of the PE-group core sees it: the geometry
// and per-channel output constants of the layer, the host's tile plan (band,
// tile, group and SRAM buffer layout), and the pattern parameters n, V, K and
// the mask table as programmed into Pattern Config, which is what drives the
// datapath. Passes are numbered band-major: pass q is (band, tile, group).
#include <algorithm>
#include <cstdint>

#include "models/spm_decoder/spm_decoder_logic.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/sim_types.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace pcnn {

struct PeLayer {
  const SpmLayer* layer = nullptr;  // geometry, bias, requantisation, ReLU
  const TilePlan* plan = nullptr;
  const PatternTable* pac = nullptr;
  ActMode mode = ActMode::off;
  int K = kPatternKernelPositions;           // kernel positions (PaC register K)
  int n = kPatternKernelPositions;           // non-zeros per kernel (PaC register n)
  int V = 0;           // patterns (PaC register V; 0: dense layer)
  int kpr = 6;         // kernels per kernel-register row: floor(register words / n)
  int index_bits = 0;  // SPM index width: ceil(log2 V), 0 for dense or V == 1
  int C = 0, M = 0, OW = 0;
  int pe_count = 0;
  int passes = 0;

  int pass_group(int q) const { return q % plan->groups; }
  int pass_tile(int q) const { return (q / plan->groups) % plan->tiles; }
  int pass_band(int q) const { return q / (plan->groups * plan->tiles); }
  int band_positions(int band) const {
    const BandPlan& b = plan->bands[band];
    return (b.out_row_end - b.out_row_begin) * OW;
  }
  int active_pes(int tile) const { return std::min(pe_count, M - tile * pe_count); }
  int group_channels(int g) const { return plan->group_channels(g, C); }
  std::int64_t chunk_seq(int q) const {
    return plan->chunk_sequence(pass_band(q), pass_tile(q), pass_group(q) / plan->groups_per_chunk);
  }
};

}  // namespace pcnn
