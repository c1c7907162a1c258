#pragma once
// The components the energy model books energy, power and area to: the five
// rows of the paper's Table IX, the post-processing unit (whole-network runs
// only; not in Table IX) and off-chip DRAM.
#include <array>
#include <cstddef>

namespace pcnn {

enum class Component : int {
  data_sram,
  weight_sram,
  pattern_sram,
  register_file,
  pe_group,
  post_process,
  dram
};
constexpr std::size_t kComponentCount = 7;

struct ComponentInfo {
  Component id;
  const char* key;         // JSON key, CSV column part, `energy` section of the architecture
  const char* name;        // as in Table IX
  const char* short_name;  // pcnn-sim table column
  bool on_chip;            // Table IX covers the chip only; DRAM is reported beside it
};

inline constexpr std::array<ComponentInfo, kComponentCount> kComponents = {{
    {Component::data_sram, "data_sram", "Data SRAM", "dsram", true},
    {Component::weight_sram, "weight_sram", "Weight SRAM", "wsram", true},
    {Component::pattern_sram, "pattern_sram", "Pattern SRAM", "psram", true},
    {Component::register_file, "register_file", "Register file", "rf", true},
    {Component::pe_group, "pe_group", "PE group", "pe", true},
    {Component::post_process, "post_process", "Post-processing unit", "ppu", true},
    {Component::dram, "dram", "DRAM", "dram", false},
}};

constexpr std::size_t index_of(Component c) { return static_cast<std::size_t>(c); }

}  // namespace pcnn
