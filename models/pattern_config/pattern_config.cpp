#include "models/pattern_config/pattern_config.hpp"
#include "models/common/payload_check.hpp"

#include <cstring>

namespace pcnn {

PatternConfig::PatternConfig(const sc_core::sc_module_name& name, double clock_period_ns)
    : sc_core::sc_module(name),
      host_target_socket("host_target_socket"),
      cycle_(clock_period_ns, sc_core::SC_NS) {
  host_target_socket.register_b_transport(this, &PatternConfig::b_transport);
  host_target_socket.register_transport_dbg(this, &PatternConfig::transport_dbg);
}

bool PatternConfig::access(tlm::tlm_generic_payload& trans) {
  if (!check_payload_form(trans)) return false;
  if (!check_payload_range(trans, kSize)) return false;
  const std::uint64_t a = trans.get_address();
  const std::uint64_t len = trans.get_data_length();
  if (trans.is_write()) {
    std::memcpy(regs_ + a, trans.get_data_ptr(), len);
    rebuild_table();
  } else {
    std::memcpy(trans.get_data_ptr(), regs_ + a, len);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return true;
}

void PatternConfig::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (access(trans)) delay += cycle_;  // one register-bus cycle per access
}

unsigned int PatternConfig::transport_dbg(tlm::tlm_generic_payload& trans) {
  return access(trans) ? trans.get_data_length() : 0;
}

void PatternConfig::rebuild_table() {
  auto word = [&](std::uint64_t a) {
    std::uint32_t v;
    std::memcpy(&v, regs_ + a, 4);
    return v;
  };
  table_.n = static_cast<int>(word(kRegN));
  table_.kernel_size = static_cast<int>(word(kRegK));
  std::uint32_t v = word(kRegV);
  if (v > static_cast<std::uint32_t>(kMaxPatterns)) v = kMaxPatterns;
  table_.masks.resize(v);
  for (std::uint32_t i = 0; i < v; ++i)
    std::memcpy(&table_.masks[i], regs_ + kTableBase + 2 * i, 2);
}

}  // namespace pcnn
