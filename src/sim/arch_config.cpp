#include "pcnn/sim/arch_config.hpp"

#include <fstream>
#include <sstream>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/json_object_reader.hpp"

namespace pcnn {
namespace {

void read_sram(const nlohmann::json* j, const std::string& file, const std::string& prefix,
               SramConfig& s) {
  if (!j) return;
  JsonObjectReader r(*j, file, prefix);
  r.get("size_bytes", s.size_bytes);
  r.get("word_bytes", s.word_bytes);
  r.get("banks", s.banks);
  r.get("latency_cycles", s.latency_cycles);
  r.finish();
}

nlohmann::json sram_json(const SramConfig& s) {
  return {{"size_bytes", s.size_bytes},
          {"word_bytes", s.word_bytes},
          {"banks", s.banks},
          {"latency_cycles", s.latency_cycles}};
}

void check(bool ok, const std::string& where, const std::string& key, const std::string& what) {
  if (!ok) throw Error(where, key + ": " + what);
}

// Upper limits keep every memory the model allocates, and the simulated time,
// bounded: an on-chip SRAM beyond 64 MiB is not what this accelerator has.
constexpr std::int64_t kMaxSramBytes = std::int64_t{1} << 26;
constexpr int kMaxWordBytes = 4096;
constexpr int kMaxBanks = 1024;
constexpr int kMaxPsumEntries = 1 << 16;
constexpr std::int64_t kMaxPsumEntriesTotal = std::int64_t{1} << 24;  // 64 MiB of int32 sums

void check_sram(const SramConfig& s, const std::string& where, const std::string& name) {
  check(s.size_bytes > 0 && s.size_bytes <= kMaxSramBytes, where, name + ".size_bytes",
        "must be in 1.." + std::to_string(kMaxSramBytes) + " (64 MiB)");
  check(s.word_bytes > 0 && s.word_bytes <= kMaxWordBytes, where, name + ".word_bytes",
        "must be in 1.." + std::to_string(kMaxWordBytes));
  check(s.banks > 0 && s.banks <= kMaxBanks, where, name + ".banks",
        "must be in 1.." + std::to_string(kMaxBanks));
  check(s.latency_cycles >= 0 && s.latency_cycles <= 1000, where, name + ".latency_cycles",
        "must be in 0..1000");
  check(s.size_bytes % s.word_bytes == 0, where, name + ".size_bytes",
        "must be a multiple of word_bytes");
}

}  // namespace

void ArchConfig::validate(const std::string& where) const {
  // At least 1 MHz: slower clocks overflow SystemC's 64-bit picosecond time.
  check(clock_mhz >= 1 && clock_mhz <= 100000, where, "clock_mhz", "must be in 1..100000");
  check(pe_count > 0 && pe_count <= 4096, where, "pe_count", "must be in 1..4096");
  check(lanes_per_pe > 0 && lanes_per_pe <= 64, where, "lanes_per_pe", "must be in 1..64");
  check(kernel_register_words >= 9 && kernel_register_words <= 4096, where, "kernel_register_words",
        "must be in 9..4096 (one 3x3 kernel at least)");
  check(psum_entries_per_pe > 0 && psum_entries_per_pe <= kMaxPsumEntries, where,
        "psum_entries_per_pe", "must be in 1.." + std::to_string(kMaxPsumEntries));
  check(static_cast<std::int64_t>(psum_entries_per_pe) * pe_count <= kMaxPsumEntriesTotal, where,
        "psum_entries_per_pe",
        "times pe_count must be at most " + std::to_string(kMaxPsumEntriesTotal));
  check_sram(weight_sram, where, "weight_sram");
  check_sram(pattern_sram, where, "pattern_sram");
  check_sram(data_sram, where, "data_sram");
  // The smallest tile: one kernel-register row for every PE.
  check(weight_sram.size_bytes >= static_cast<std::int64_t>(pe_count) * kernel_register_words,
        where, "weight_sram.size_bytes",
        "too small for one tile (pe_count x kernel_register_words bytes)");
  check(dram.bandwidth_gbps >= 0.001 && dram.bandwidth_gbps <= 1e6, where, "dram.bandwidth_gbps",
        "must be in 0.001..1000000");
  check(dram.latency_ns >= 0 && dram.latency_ns <= 1e9, where, "dram.latency_ns",
        "must be in 0..1000000000 (one second)");
  check(dram.energy_pj_per_byte >= 0 && dram.energy_pj_per_byte <= 1e6, where,
        "dram.energy_pj_per_byte", "must be in 0..1000000");
  post_process.validate(where, "post_process.");
  energy.validate(where);
}

ArchConfig arch_from_json(const nlohmann::json& j, const std::string& where) {
  ArchConfig a;
  JsonObjectReader r(j, where, "");
  r.get("clock_mhz", a.clock_mhz);
  r.get("pe_count", a.pe_count);
  r.get("lanes_per_pe", a.lanes_per_pe);
  r.get("kernel_register_words", a.kernel_register_words);
  r.get("psum_entries_per_pe", a.psum_entries_per_pe);
  read_sram(r.object("weight_sram"), where, "weight_sram.", a.weight_sram);
  read_sram(r.object("pattern_sram"), where, "pattern_sram.", a.pattern_sram);
  read_sram(r.object("data_sram"), where, "data_sram.", a.data_sram);
  if (const nlohmann::json* d = r.object("dram")) {
    JsonObjectReader dr(*d, where, "dram.");
    dr.get("bandwidth_gbps", a.dram.bandwidth_gbps);
    dr.get("latency_ns", a.dram.latency_ns);
    dr.get("energy_pj_per_byte", a.dram.energy_pj_per_byte);
    dr.finish();
  }
  r.get("double_buffering", a.double_buffering);
  r.get("kernel_register_double_buffering", a.kernel_register_double_buffering);
  if (const nlohmann::json* p = r.object("post_process")) {
    JsonObjectReader pr(*p, where, "post_process.");
    pr.get("lanes", a.post_process.lanes);
    pr.get("line_buffer_bytes", a.post_process.line_buffer_bytes);
    pr.get("dram_burst_bytes", a.post_process.dram_burst_bytes);
    pr.get("setup_cycles", a.post_process.setup_cycles);
    pr.get("register_write_cycles", a.post_process.register_write_cycles);
    pr.finish();
  }
  if (const nlohmann::json* e = r.object("energy")) read_energy_config(*e, where, a.energy);
  r.finish();
  a.validate(where);
  return a;
}

nlohmann::json arch_to_json(const ArchConfig& a) {
  return {{"clock_mhz", a.clock_mhz},
          {"pe_count", a.pe_count},
          {"lanes_per_pe", a.lanes_per_pe},
          {"kernel_register_words", a.kernel_register_words},
          {"psum_entries_per_pe", a.psum_entries_per_pe},
          {"weight_sram", sram_json(a.weight_sram)},
          {"pattern_sram", sram_json(a.pattern_sram)},
          {"data_sram", sram_json(a.data_sram)},
          {"dram",
           {{"bandwidth_gbps", a.dram.bandwidth_gbps},
            {"latency_ns", a.dram.latency_ns},
            {"energy_pj_per_byte", a.dram.energy_pj_per_byte}}},
          {"double_buffering", a.double_buffering},
          {"kernel_register_double_buffering", a.kernel_register_double_buffering},
          {"post_process",
           {{"lanes", a.post_process.lanes},
            {"line_buffer_bytes", a.post_process.line_buffer_bytes},
            {"dram_burst_bytes", a.post_process.dram_burst_bytes},
            {"setup_cycles", a.post_process.setup_cycles},
            {"register_write_cycles", a.post_process.register_write_cycles}}},
          {"energy", energy_config_to_json(a.energy)}};
}

ArchConfig read_arch_file(const std::string& path) {
  return arch_from_json(read_json_file(path, "architecture file"), path);
}

}  // namespace pcnn
