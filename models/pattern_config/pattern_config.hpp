#pragma once
// Pattern Config (PaC): memory-mapped registers holding a layer's kernel
// sparsity n, its pattern count V and the SPM index -> mask table the decoder
// uses. Register map (little-endian 32-bit words unless noted):
//   0x000 n            0x004 V (0 = dense layer, all-ones mask)
//   0x008 K (kernel positions)
//   0x100 + 2*i        16-bit mask of SPM index i, i < kMaxPatterns
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/spm_decoder/spm_decoder_logic.hpp"

namespace pcnn {

class PatternConfig : public sc_core::sc_module {
 public:
  static constexpr std::uint64_t kRegN = 0x000;
  static constexpr std::uint64_t kRegV = 0x004;
  static constexpr std::uint64_t kRegK = 0x008;
  static constexpr std::uint64_t kTableBase = 0x100;
  static constexpr int kMaxPatterns = 512;
  static constexpr std::uint64_t kSize = kTableBase + 2 * kMaxPatterns;

  tlm_utils::simple_target_socket<PatternConfig> host_target_socket;

  PatternConfig(const sc_core::sc_module_name& name, double clock_period_ns);

  // The table as the decoder sees it (rebuilt from the registers on write).
  const PatternTable& table() const { return table_; }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  bool access(tlm::tlm_generic_payload& trans);
  void rebuild_table();

  sc_core::sc_time cycle_;
  std::uint8_t regs_[kSize] = {};
  PatternTable table_;
};

}  // namespace pcnn
