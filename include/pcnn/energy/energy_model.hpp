#pragma once
// Activity-based energy, power and area (docs/energy.md): a layer's energy is
// the sum over actions of count x energy per action, plus every component's
// leakage power over the layer's time. The architecture's `energy` section is
// first resolved for the configured sizes.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/energy/energy_config.hpp"
#include "pcnn/energy/energy_report.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

// The factors an SRAM's reference values are multiplied by at its configured
// capacity S, word width w and bank count B (reference S0, w0, B0; k =
// access_fixed_bytes, pb and pw the periphery shares of SramScaling):
//   energy per byte:  sqrt((S/B) / (S0/B0)) x (k/w + 1) / (k/w0 + 1)
//   leakage and area: (1 - pb - pw) x S/S0 + pb x B/B0 + pw x B*w / (B0*w0)
struct SramScale {
  double energy_per_byte = 1.0;
  double leakage_and_area = 1.0;
};
SramScale sram_scale(const SramConfig& sram, const EnergyConfig& cfg, Component c);

// Energy per action, leakage and area for one architecture's sizes:
//   SRAM: by sram_scale();
//   register file: leakage and area x register bytes / the default's;
//   PE group: leakage and area x MAC lanes / the default's (256);
//   post-processing unit (line buffer L, default 16 KiB; N lanes, default 32):
//     line-buffer energy per byte x sqrt(L / 16 KiB); of leakage and area the
//     line buffer's share (below) x L / 16 KiB, the lanes' rest x N / 32;
//     without the unit (a per-layer run has none) no leakage and no area;
//   DRAM: dram.energy_pj_per_byte, no leakage or area on chip.
// The line buffer's share of the default post-processing unit's leakage
// (1.334 of 1.395 mW) and area (0.325 of 0.3875 mm^2); the rest is its lanes'.
constexpr double kPostProcessBufferLeakageShare = 1.334 / 1.395;
constexpr double kPostProcessBufferAreaShare = 0.325 / 0.3875;
struct ResolvedEnergy {
  std::array<double, kActionCount> action_pj{};
  std::array<double, kComponentCount> leakage_mw{};
  std::array<double, kComponentCount> area_mm2{};
  double on_chip_area_mm2() const;
};
ResolvedEnergy resolve_energy(const ArchConfig& arch, bool with_post_process_unit = false);

// Register bytes the register file holds: per PE the kernel register (two sets
// with kernel_register_double_buffering, the default and Table IX's chip) and
// its partial sums (4 bytes each), plus the shared window register (9 positions
// of up to kernel_register_words channels).
std::int64_t register_file_bytes(const ArchConfig& arch);

// Energy of a layer from its counters (actions, dense_macs, time_ns).
EnergyReport layer_energy(const LayerStats& s, const ResolvedEnergy& e);

// The same actions in the time their MACs take with every lane busy
// (macs_issued / (pe_count x lanes_per_pe) cycles): the operating point of the
// paper's Table IX, whose 3.15 TOPS/W is 256 MACs x 2 ops x 300 MHz / 48.7 mW.
EnergyReport energy_at_full_utilisation(const LayerStats& s, const ResolvedEnergy& e,
                                        const ArchConfig& arch);

nlohmann::json energy_report_json(const EnergyReport& r);
EnergyReport energy_report_from_json(const nlohmann::json& j);  // its inverse
nlohmann::json area_json(const ResolvedEnergy& e);

// On-chip index overhead of a layer's images: the Pattern SRAM bits its SPM
// indices need over the Weight SRAM bits its weight image occupies.
struct IndexOverhead {
  std::uint64_t index_bits = 0;   // kernels x ceil(log2 V)
  std::uint64_t weight_bits = 0;  // weight image bytes x 8 (rows of row_bytes)
  double ratio() const {
    return weight_bits ? static_cast<double>(index_bits) / static_cast<double>(weight_bits) : 0.0;
  }
  IndexOverhead& operator+=(const IndexOverhead& o) {
    index_bits += o.index_bits;
    weight_bits += o.weight_bits;
    return *this;
  }
};
IndexOverhead index_overhead(const SpmLayer& layer);
nlohmann::json index_overhead_json(const IndexOverhead& o);

}  // namespace pcnn
