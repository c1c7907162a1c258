#pragma once
// Generic on-chip SRAM target, configured as Weight, Pattern or Data SRAM.
// Loosely timed: b_transport adds latency + ceil(words / banks) cycles to the
// delay and never waits. Two target sockets: one for the host controller's
// DMA moves, one for the PE group. transport_dbg serves untimed loads.
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

struct SramStats {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t reads = 0;    // transactions
  std::uint64_t writes = 0;
  std::uint64_t busy_cycles = 0;  // sum of access cycles
};

// Cycles one access of `words` words costs: latency, then `banks` words per cycle.
std::uint64_t sram_access_cycles(const SramConfig& cfg, std::uint64_t words);
// Words touched by the byte range [address, address + length).
std::uint64_t sram_words_touched(const SramConfig& cfg, std::uint64_t address,
                                 std::uint64_t length);

class Sram : public sc_core::sc_module, public StatsSource {
 public:
  tlm_utils::simple_target_socket<Sram> host_target_socket;
  tlm_utils::simple_target_socket<Sram> pe_target_socket;

  Sram(const sc_core::sc_module_name& name, const SramConfig& cfg, double clock_period_ns);

  const SramConfig& config() const { return cfg_; }
  const SramStats& stats() const { return stats_; }
  void reset_stats() { stats_ = SramStats{}; }
  nlohmann::json stats_json() const override {
    return {{"bytes_read", stats_.bytes_read},   {"bytes_written", stats_.bytes_written},
            {"read_transactions", stats_.reads}, {"write_transactions", stats_.writes},
            {"busy_cycles", stats_.busy_cycles}};
  }
  // Direct view for tests and tracing; not a data path.
  const std::vector<std::uint8_t>& contents() const { return mem_; }

  // Strobe of the last access (for tracing).
  std::uint64_t last_address() const { return last_address_; }
  bool last_was_write() const { return last_write_; }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  // Checks one payload; sets the error response and returns false when bad.
  bool check(tlm::tlm_generic_payload& trans) const;
  bool in_range(std::uint64_t address, std::uint64_t length) const;

  SramConfig cfg_;
  sc_core::sc_time cycle_;
  std::vector<std::uint8_t> mem_;
  SramStats stats_;
  std::uint64_t last_address_ = 0;
  bool last_write_ = false;
};

}  // namespace pcnn
