#pragma once
// Checks every memory-mapped target applies to an incoming generic payload
// before touching its storage. On failure the payload carries the matching TLM
// error response and the function returns false.
#include <cstdint>

#include <tlm>

namespace pcnn {

// Command is read or write, no byte enables, no streaming narrower than the
// transfer. The address range is left to the caller (targets differ in it).
inline bool check_payload_form(tlm::tlm_generic_payload& trans) {
  if (!trans.is_read() && !trans.is_write()) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return false;
  }
  if (trans.get_byte_enable_ptr() != nullptr) {
    trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return false;
  }
  const unsigned int width = trans.get_streaming_width();
  if (width != 0 && width != trans.get_data_length()) {
    trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return false;
  }
  return true;
}

// [address, address + length) lies inside a target of `size` bytes.
inline bool check_payload_range(tlm::tlm_generic_payload& trans, std::uint64_t size) {
  const std::uint64_t address = trans.get_address();
  if (address > size || trans.get_data_length() > size - address) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  return true;
}

}  // namespace pcnn
