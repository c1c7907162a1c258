#include "models/sram/sram.hpp"
#include "models/common/payload_check.hpp"

#include <cstring>

#include "models/sram/gather_extension.hpp"

namespace pcnn {

std::uint64_t sram_words_touched(const SramConfig& cfg, std::uint64_t address,
                                 std::uint64_t length) {
  if (length == 0) return 0;
  const std::uint64_t w = static_cast<std::uint64_t>(cfg.word_bytes);
  return (address + length - 1) / w - address / w + 1;
}

std::uint64_t sram_access_cycles(const SramConfig& cfg, std::uint64_t words) {
  const std::uint64_t b = static_cast<std::uint64_t>(cfg.banks);
  return static_cast<std::uint64_t>(cfg.latency_cycles) + (words + b - 1) / b;
}

Sram::Sram(const sc_core::sc_module_name& name, const SramConfig& cfg, double clock_period_ns)
    : sc_core::sc_module(name),
      host_target_socket("host_target_socket"),
      pe_target_socket("pe_target_socket"),
      cfg_(cfg),
      cycle_(clock_period_ns, sc_core::SC_NS),
      mem_(static_cast<std::size_t>(cfg.size_bytes), 0) {
  host_target_socket.register_b_transport(this, &Sram::b_transport);
  host_target_socket.register_transport_dbg(this, &Sram::transport_dbg);
  pe_target_socket.register_b_transport(this, &Sram::b_transport);
  pe_target_socket.register_transport_dbg(this, &Sram::transport_dbg);
}

bool Sram::in_range(std::uint64_t address, std::uint64_t length) const {
  // Written to avoid overflow of address + length.
  const auto size = static_cast<std::uint64_t>(cfg_.size_bytes);
  return address <= size && length <= size - address;
}

bool Sram::check(tlm::tlm_generic_payload& trans) const {
  if (!check_payload_form(trans)) return false;
  const GatherExtension* gather = trans.get_extension<GatherExtension>();
  if (gather) {
    std::uint64_t total = 0;
    for (const auto& s : gather->segments) {
      if (!in_range(s.address, s.length)) {
        trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return false;
      }
      total += s.length;
    }
    if (total != trans.get_data_length()) {
      trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
      return false;
    }
  } else if (!in_range(trans.get_address(), trans.get_data_length())) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  return true;
}

void Sram::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (!check(trans)) return;
  const bool write = trans.is_write();
  unsigned char* data = trans.get_data_ptr();
  std::uint64_t words = 0;
  auto move = [&](std::uint64_t address, std::uint64_t length, unsigned char* p) {
    if (write)
      std::memcpy(&mem_[address], p, length);
    else
      std::memcpy(p, &mem_[address], length);
    words += sram_words_touched(cfg_, address, length);
  };
  if (const GatherExtension* gather = trans.get_extension<GatherExtension>()) {
    std::uint64_t offset = 0;
    for (const auto& s : gather->segments) {
      move(s.address, s.length, data + offset);
      offset += s.length;
    }
    last_address_ = gather->segments.empty() ? 0 : gather->segments.front().address;
  } else {
    move(trans.get_address(), trans.get_data_length(), data);
    last_address_ = trans.get_address();
  }
  last_write_ = write;
  const std::uint64_t cycles = sram_access_cycles(cfg_, words);
  if (write) {
    stats_.bytes_written += trans.get_data_length();
    ++stats_.writes;
  } else {
    stats_.bytes_read += trans.get_data_length();
    ++stats_.reads;
  }
  stats_.busy_cycles += cycles;
  delay += cycle_ * static_cast<double>(cycles);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int Sram::transport_dbg(tlm::tlm_generic_payload& trans) {
  if (trans.get_extension<GatherExtension>() != nullptr || !check(trans)) return 0;
  const std::uint64_t address = trans.get_address();
  const unsigned int length = trans.get_data_length();
  if (trans.is_write())
    std::memcpy(&mem_[address], trans.get_data_ptr(), length);
  else
    std::memcpy(trans.get_data_ptr(), &mem_[address], length);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return length;
}

}  // namespace pcnn
