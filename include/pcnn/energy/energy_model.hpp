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

// Energy per action, leakage and area for one architecture's sizes:
//   SRAM (capacity S, reference R): energy per byte x sqrt(S / R), leakage and
//     area x S / R;
//   register file: leakage and area x register bytes / the default's;
//   PE group: leakage and area x MAC lanes / the default's (256);
//   DRAM: dram.energy_pj_per_byte, no leakage or area on chip.
struct ResolvedEnergy {
  std::array<double, kActionCount> action_pj{};
  std::array<double, kComponentCount> leakage_mw{};
  std::array<double, kComponentCount> area_mm2{};
  double on_chip_area_mm2() const;
};
ResolvedEnergy resolve_energy(const ArchConfig& arch);

// Register bytes the register file holds: per PE the kernel register and its
// partial sums (4 bytes each), plus the shared window register (9 positions of
// up to kernel_register_words channels).
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
