#include "pcnn/sim/stats_schema.hpp"

namespace pcnn {

const std::array<StallReasonField, 7> kStallReasons = {{
    {"weight_sram", "st_wsram", "Weight SRAM", &StallCycles::weight_sram,
     "a kernel-register refill is reading Weight SRAM"},
    {"pattern_sram", "st_psram", "Pattern SRAM", &StallCycles::pattern_sram,
     "a refill waits for Pattern SRAM beyond the weights"},
    {"register_refill", "st_refil", "kernel register refill", &StallCycles::register_refill,
     "the decode and register load cycle of a refill"},
    {"data_sram", "st_dsram", "Data SRAM", &StallCycles::data_sram,
     "the next activation window has not arrived from Data SRAM"},
    {"dram", "st_dram", "DRAM wait", &StallCycles::dram,
     "waiting for a DMA move (weights, an input band, a free output buffer, the last results)"},
    {"fill_drain", "st_fill", "pipeline fill/drain", &StallCycles::fill_drain,
     "pointer generation after a refill, the first window of a pass"},
    {"writeback", "st_wback", "write-back", &StallCycles::writeback,
     "requantised outputs are being written to Data SRAM"},
}};

std::uint64_t StallCycles::total() const {
  std::uint64_t sum = 0;
  for (const StallReasonField& f : kStallReasons) sum += this->*f.cycles;
  return sum;
}

const std::array<MemoryField, 4> kMemories = {{
    {"weight_sram", "wsram", &LayerStats::weight_sram,
     "Weight SRAM, both ports (DMA writes, refill reads)"},
    {"pattern_sram", "psram", &LayerStats::pattern_sram, "Pattern SRAM, both ports"},
    {"data_sram", "dsram", &LayerStats::data_sram,
     "Data SRAM, both ports (DMA, window reads, write-back)"},
    {"dram", "dram", &LayerStats::dram, "off-chip DRAM (DMA moves)"},
}};

namespace {
template <std::uint64_t DatapathActions::*M>
std::uint64_t datapath(const LayerStats& s) {
  return s.actions.*M;
}
template <std::uint64_t LayerStats::*M>
std::uint64_t layer(const LayerStats& s) {
  return s.*M;
}
template <TrafficStats LayerStats::*M>
std::uint64_t read_bytes(const LayerStats& s) {
  return (s.*M).bytes_read;
}
template <TrafficStats LayerStats::*M>
std::uint64_t write_bytes(const LayerStats& s) {
  return (s.*M).bytes_written;
}
}  // namespace

const std::array<ActionField, kActionCount> kActions = {{
    {"data_sram_read_bytes", Component::data_sram, "read_pj_per_byte",
     read_bytes<&LayerStats::data_sram>, "byte", "bytes read from Data SRAM"},
    {"data_sram_write_bytes", Component::data_sram, "write_pj_per_byte",
     write_bytes<&LayerStats::data_sram>, "byte", "bytes written to Data SRAM"},
    {"weight_sram_read_bytes", Component::weight_sram, "read_pj_per_byte",
     read_bytes<&LayerStats::weight_sram>, "byte", "bytes read from Weight SRAM"},
    {"weight_sram_write_bytes", Component::weight_sram, "write_pj_per_byte",
     write_bytes<&LayerStats::weight_sram>, "byte", "bytes written to Weight SRAM"},
    {"pattern_sram_read_bytes", Component::pattern_sram, "read_pj_per_byte",
     read_bytes<&LayerStats::pattern_sram>, "byte", "bytes read from Pattern SRAM"},
    {"pattern_sram_write_bytes", Component::pattern_sram, "write_pj_per_byte",
     write_bytes<&LayerStats::pattern_sram>, "byte", "bytes written to Pattern SRAM"},
    {"kernel_register_write_bytes", Component::register_file, "kernel_register_write_pj_per_byte",
     datapath<&DatapathActions::kernel_register_write_bytes>, "byte",
     "bytes loaded into the kernel registers by refills"},
    {"kernel_register_reads", Component::register_file, "kernel_register_read_pj",
     datapath<&DatapathActions::kernel_register_reads>, "word",
     "kernel-register words read (one per issued MAC)"},
    {"window_write_bytes", Component::register_file, "window_write_pj_per_byte",
     datapath<&DatapathActions::window_write_bytes>, "byte",
     "activation bytes loaded into the window register (padding zeros included)"},
    {"window_shift_bytes", Component::register_file, "window_shift_pj_per_byte",
     datapath<&DatapathActions::window_shift_bytes>, "byte",
     "window-register bytes moved along by the row shift (stride < kernel width)"},
    {"window_reads", Component::register_file, "window_read_pj",
     datapath<&DatapathActions::window_reads>, "value",
     "window-register values read (one per issued MAC)"},
    {"psum_reads", Component::register_file, "psum_read_pj", datapath<&DatapathActions::psum_reads>,
     "entry", "32-bit partial-sum entries read"},
    {"psum_writes", Component::register_file, "psum_write_pj",
     datapath<&DatapathActions::psum_writes>, "entry", "32-bit partial-sum entries written"},
    {"macs_issued", Component::pe_group, "mac_pj", layer<&LayerStats::macs_issued>, "MAC",
     "8x8-bit multiply-accumulates issued on the lanes"},
    {"macs_effectual", Component::pe_group, nullptr, layer<&LayerStats::macs_effectual>, "MAC",
     "issued MACs with both operands non-zero (counted, not charged apart)"},
    {"spm_decodes", Component::pe_group, "spm_decode_pj", layer<&LayerStats::pattern_decodes>,
     "kernel", "SPM indices decoded to weight masks"},
    {"pointer_generations", Component::pe_group, "pointer_generation_pj",
     datapath<&DatapathActions::pointer_generations>, "kernel",
     "kernels through Sparsity IO (mask AND, adder chain, pointers)"},
    {"requantisations", Component::pe_group, "requantisation_pj",
     datapath<&DatapathActions::requantisations>, "output",
     "outputs biased, requantised and clamped"},
    {"dram_read_bytes", Component::dram, "energy_pj_per_byte", read_bytes<&LayerStats::dram>,
     "byte", "bytes read from DRAM"},
    {"dram_write_bytes", Component::dram, "energy_pj_per_byte", write_bytes<&LayerStats::dram>,
     "byte", "bytes written to DRAM"},
    {"refills", Component::register_file, nullptr, layer<&LayerStats::refills>, "refill",
     "kernel-register refills (their bytes are charged above)"},
    {"post_process_line_buffer_read_bytes", Component::post_process, "line_buffer_read_pj_per_byte",
     datapath<&DatapathActions::post_process_line_buffer_read_bytes>, "byte",
     "bytes the post-processing lanes read from the unit's line buffer"},
    {"post_process_line_buffer_write_bytes", Component::post_process,
     "line_buffer_write_pj_per_byte",
     datapath<&DatapathActions::post_process_line_buffer_write_bytes>, "byte",
     "bytes written into the post-processing unit's line buffer (its DRAM reads)"},
    {"post_process_element_ops", Component::post_process, "element_op_pj",
     datapath<&DatapathActions::post_process_element_ops>, "element",
     "input elements or window taps the post-processing lanes consume"},
}};

const std::array<DatapathActionField, 12> kDatapathActions = {{
    {"kernel_register_write_bytes", &DatapathActions::kernel_register_write_bytes},
    {"kernel_register_reads", &DatapathActions::kernel_register_reads},
    {"window_write_bytes", &DatapathActions::window_write_bytes},
    {"window_shift_bytes", &DatapathActions::window_shift_bytes},
    {"window_reads", &DatapathActions::window_reads},
    {"psum_reads", &DatapathActions::psum_reads},
    {"psum_writes", &DatapathActions::psum_writes},
    {"pointer_generations", &DatapathActions::pointer_generations},
    {"requantisations", &DatapathActions::requantisations},
    {"post_process_line_buffer_read_bytes", &DatapathActions::post_process_line_buffer_read_bytes},
    {"post_process_line_buffer_write_bytes",
     &DatapathActions::post_process_line_buffer_write_bytes},
    {"post_process_element_ops", &DatapathActions::post_process_element_ops},
}};

const std::array<EnergyTotalField, 6> kEnergyTotals = {{
    {"energy_on_chip_pj", [](const EnergyReport& e) { return e.on_chip_pj(); },
     "the on-chip components (with the post-processing unit in whole-network runs), dynamic plus "
     "leakage"},
    {"energy_on_chip_leakage_pj", [](const EnergyReport& e) { return e.on_chip_leakage_pj(); },
     "the on-chip components' leakage"},
    {"energy_total_pj", [](const EnergyReport& e) { return e.total_pj(); }, "on chip plus DRAM"},
    {"power_on_chip_mw", [](const EnergyReport& e) { return e.on_chip_power_mw(); },
     "average on-chip power over the time"},
    {"tops_per_w_effective", [](const EnergyReport& e) { return e.tops_per_w_effective(); },
     "2 per issued MAC over on-chip energy"},
    {"tops_per_w_dense_equivalent",
     [](const EnergyReport& e) { return e.tops_per_w_dense_equivalent(); },
     "2 per MAC of the dense layer over on-chip energy"},
}};

std::vector<std::string> energy_csv_columns() {
  std::vector<std::string> c;
  for (const ComponentInfo& k : kComponents) c.push_back(std::string("energy_") + k.key + "_pj");
  for (const EnergyTotalField& t : kEnergyTotals) c.push_back(t.key);
  return c;
}

std::vector<double> energy_csv_values(const EnergyReport& e) {
  std::vector<double> v;
  for (const ComponentInfo& k : kComponents) v.push_back(e.component_pj(k.id));
  for (const EnergyTotalField& t : kEnergyTotals) v.push_back(t.value(e));
  return v;
}

nlohmann::json stall_cycles_json(const StallCycles& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const StallReasonField& f : kStallReasons) j[f.key] = s.*f.cycles;
  return j;
}

nlohmann::json actions_json(const LayerStats& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const ActionField& a : kActions) j[a.key] = a.count(s);
  return j;
}

void add_counts(LayerStats& a, const LayerStats& b) {
  a.cycles += b.cycles;
  a.time_ns += b.time_ns;
  a.mac_cycles += b.mac_cycles;
  for (const StallReasonField& f : kStallReasons) a.stalls.*f.cycles += b.stalls.*f.cycles;
  a.macs_issued += b.macs_issued;
  a.macs_effectual += b.macs_effectual;
  a.refills += b.refills;
  a.pattern_decodes += b.pattern_decodes;
  a.steps += b.steps;
  for (const MemoryField& m : kMemories) {
    (a.*m.traffic).bytes_read += (b.*m.traffic).bytes_read;
    (a.*m.traffic).bytes_written += (b.*m.traffic).bytes_written;
  }
  for (const DatapathActionField& f : kDatapathActions) a.actions.*f.count += b.actions.*f.count;
  a.dense_macs += b.dense_macs;
  a.energy += b.energy;
}

}  // namespace pcnn
