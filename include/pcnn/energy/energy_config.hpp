#pragma once
// The `energy` section of the architecture file: Accelergy-style energy per
// action, leakage power and area per component (docs/energy.md). The values
// describe the paper's chip (55 nm, 300 MHz, 1 V) at the default sizes; SRAM
// values belong to a reference size and scale with the configured size.
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/energy/component.hpp"
#include "pcnn/sim/stats_schema.hpp"

namespace pcnn {

// How an SRAM's energy per byte, leakage and area follow its capacity, word
// width and bank count away from its reference (docs/energy.md, "Scaling with
// size, width and banks"): the first-order CACTI decomposition. An access drives
// one bank: a decoder and word line whose energy does not depend on the word
// width, and per bit a bit-line pair and sense amplifier; both grow with the
// square root of the bank's capacity. Leakage and area are bit cells (linear in
// capacity), per-bank periphery (decoders, control) and per-bit periphery
// (sense amplifiers, write drivers, column circuits, one set per bank's word bit).
struct SramScaling {
  // The decoder and word-line energy of one access, in bytes of bit-line energy.
  double access_fixed_bytes = 8.0;
  // Shares of leakage and area at the reference: per-bank periphery and per-bit
  // periphery; the rest, 1 minus both, is the bit cells.
  double bank_periphery_share = 0.10;
  double width_periphery_share = 0.20;
};

struct EnergyConfig {
  // pJ per unit of kActions[i] (at the reference size for SRAM actions); DRAM
  // actions take dram.energy_pj_per_byte, counted-only actions are 0.
  std::array<double, kActionCount> action_pj{};
  std::array<double, kComponentCount> leakage_mw{};
  std::array<double, kComponentCount> area_mm2{};
  // SRAMs: the capacity, word width and bank count the three values above
  // belong to; 0 for other components.
  std::array<std::int64_t, kComponentCount> reference_size_bytes{};
  std::array<int, kComponentCount> reference_word_bytes{};
  std::array<int, kComponentCount> reference_banks{};
  SramScaling sram_scaling;

  double pj(const char* action_key) const;  // by kActions key; throws for an unknown key
  // Throws pcnn::Error("<where>: energy.<component>.<key>: <problem>").
  void validate(const std::string& where) const;
};

// The calibrated defaults (docs/energy.md, "Calibration").
EnergyConfig default_energy_config();

bool is_sram(Component c);

// Reads the `energy` object over `e` (keys absent keep their values); unknown
// keys and wrong types are errors naming the key.
void read_energy_config(const nlohmann::json& j, const std::string& where, EnergyConfig& e);
nlohmann::json energy_config_to_json(const EnergyConfig& e);

}  // namespace pcnn
