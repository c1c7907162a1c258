#pragma once
// The one list of the simulator's statistic names: stall reasons, memories and
// the actions the energy model charges. The counters' JSON, the pcnn-sim tables,
// the CSV files and the energy model iterate these tables, so every name has one
// home. docs/results.md documents them.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/energy/component.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

struct StallReasonField {
  const char* key;         // JSON key under stall_cycles; CSV column stall_<key>
  const char* short_name;  // column header in the pcnn-sim table
  const char* label;       // a few words for legends and plots
  std::uint64_t StallCycles::*cycles;
  const char* description;
};
extern const std::array<StallReasonField, 7> kStallReasons;

struct MemoryField {
  const char* key;         // JSON key; CSV columns <key>_read_bytes, <key>_write_bytes
  const char* short_name;  // pcnn-sim table column <short_name>_KiB
  TrafficStats LayerStats::*traffic;
  const char* description;
};
extern const std::array<MemoryField, 4> kMemories;

// An action the energy model charges (or, without energy_key, only counts).
struct ActionField {
  const char* key;  // JSON key under "actions"; CSV column
  Component component;
  const char* energy_key;  // its energy in the component's `energy` section, or nullptr
  std::uint64_t (*count)(const LayerStats&);
  const char* unit;  // what one count is
  const char* description;
};
constexpr std::size_t kActionCount = 24;
extern const std::array<ActionField, kActionCount> kActions;

// The members of DatapathActions with their kActions keys, for sums and reading back.
struct DatapathActionField {
  const char* key;
  std::uint64_t DatapathActions::*count;
};
extern const std::array<DatapathActionField, 12> kDatapathActions;

// A total of an EnergyReport that the CSV files carry (after energy_<component>_pj).
struct EnergyTotalField {
  const char* key;  // CSV column
  double (*value)(const EnergyReport&);
  const char* description;
};
extern const std::array<EnergyTotalField, 6> kEnergyTotals;

// The energy columns of the run and sweep CSV files: energy_<component>_pj for
// every component of kComponents, then kEnergyTotals; and their values.
std::vector<std::string> energy_csv_columns();
std::vector<double> energy_csv_values(const EnergyReport& e);

nlohmann::json stall_cycles_json(const StallCycles& s);
nlohmann::json actions_json(const LayerStats& s);  // every kActions count by key

// a += b for every counter of a layer (a further pass of the same layer).
void add_counts(LayerStats& a, const LayerStats& b);

}  // namespace pcnn
