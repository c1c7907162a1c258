#pragma once
// Architecture parameters of the pattern-aware accelerator. Read from JSON into
// this struct, validated once, then passed by const reference to every module.
// Defaults are the paper's design (64 PEs x 4 lanes, 300 MHz, 128 KB Weight SRAM,
// 4 KB Pattern SRAM, 60-word kernel register); the rest is documented in
// docs/architecture.md.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/energy/energy_config.hpp"
#include "pcnn/image/spm_layer.hpp"  // kDefaultKernelRegisterWords
#include "pcnn/sim/post_process_config.hpp"

namespace pcnn {

struct SramConfig {
  std::int64_t size_bytes = 0;
  int word_bytes = 0;      // bytes delivered per bank access
  int banks = 1;           // words that can be accessed in the same cycle
  int latency_cycles = 1;  // cycles from request to first data
};

struct DramConfig {
  double bandwidth_gbps = 38.4;      // sustained GB/s (one DDR5-4800 64-bit channel)
  double latency_ns = 60.0;          // first-byte latency of one access
  double energy_pj_per_byte = 20.0;  // access energy, reported as statistic
};

struct ArchConfig {
  double clock_mhz = 300.0;
  int pe_count = 64;
  int lanes_per_pe = 4;
  int kernel_register_words = kDefaultKernelRegisterWords;
  int psum_entries_per_pe = 256;  // output positions one PE can accumulate at once
  SramConfig weight_sram{128 * 1024, 64, 4, 1};
  SramConfig pattern_sram{4 * 1024, 32, 4, 1};
  SramConfig data_sram{160 * 1024, 16, 8, 1};
  DramConfig dram;
  bool double_buffering = true;                   // overlap DRAM tile moves with compute
  // Two kernel-register sets: the next pass's registers load while the current
  // pass computes (the paper pipelines every operation).
  bool kernel_register_double_buffering = true;
  PostProcessConfig post_process;                 // the unit between convs in whole-network runs
  EnergyConfig energy = default_energy_config();  // docs/energy.md

  double clock_period_ns() const { return 1000.0 / clock_mhz; }
  // Throws pcnn::Error("<where>: <key>: <problem>") for impossible values.
  void validate(const std::string& where = "architecture") const;
};

ArchConfig arch_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json arch_to_json(const ArchConfig& arch);
// Reads and validates an architecture file; unknown keys and wrong types are
// errors naming the key.
ArchConfig read_arch_file(const std::string& path);

}  // namespace pcnn
