#include "models/dram/dram.hpp"
#include "models/common/payload_check.hpp"
#include "models/trace/vcd_writer.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace pcnn {

Dram::Dram(const sc_core::sc_module_name& name, const DramConfig& cfg, std::uint64_t size_bytes)
    : sc_core::sc_module(name),
      host_target_socket("host_target_socket"),
      post_process_target_socket("post_process_target_socket"),
      cfg_(cfg),
      mem_(size_bytes),
      size_(size_bytes),
      channel_free_(sc_core::SC_ZERO_TIME) {
  host_target_socket.register_b_transport(this, &Dram::b_transport);
  host_target_socket.register_transport_dbg(this, &Dram::transport_dbg);
  post_process_target_socket.register_b_transport(this, &Dram::b_transport);
  post_process_target_socket.register_transport_dbg(this, &Dram::transport_dbg);
}

bool Dram::check(tlm::tlm_generic_payload& trans) const {
  if (!check_payload_form(trans)) return false;
  return check_payload_range(trans, size_);
}

void Dram::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (!check(trans)) return;
  const std::uint64_t length = trans.get_data_length();
  if (trans.is_write()) {
    std::memcpy(mem_.data() + trans.get_address(), trans.get_data_ptr(), length);
    stats_.bytes_written += length;
  } else {
    std::memcpy(trans.get_data_ptr(), mem_.data() + trans.get_address(), length);
    stats_.bytes_read += length;
  }
  ++stats_.accesses;
  // The request arrives at now + delay; it streams once the channel is free,
  // and its last byte lands one latency after it has streamed.
  const sc_core::sc_time arrival = sc_core::sc_time_stamp() + delay;
  const sc_core::sc_time start = std::max(arrival, channel_free_);
  const sc_core::sc_time transfer(static_cast<double>(length) / cfg_.bandwidth_gbps,
                                  sc_core::SC_NS);
  channel_free_ = start + transfer;
  delay =
      channel_free_ + sc_core::sc_time(cfg_.latency_ns, sc_core::SC_NS) - sc_core::sc_time_stamp();
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned int Dram::transport_dbg(tlm::tlm_generic_payload& trans) {
  if (!check(trans)) return 0;
  const unsigned int length = trans.get_data_length();
  if (trans.is_write())
    std::memcpy(mem_.data() + trans.get_address(), trans.get_data_ptr(), length);
  else
    std::memcpy(trans.get_data_ptr(), mem_.data() + trans.get_address(), length);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return length;
}

}  // namespace pcnn

void pcnn::Dram::attach_tracer(VcdWriter* vcd) {
  if (!vcd) return;
  const std::string d = "top.dram.";
  const std::string group = "DRAM channel";
  const int busy = vcd->add(d + "busy", 1, group);
  const int accesses = vcd->add(d + "accesses", 32, group, TraceFormat::decimal);
  const int read = vcd->add(d + "bytes_read", 32, group, TraceFormat::decimal);
  const int written = vcd->add(d + "bytes_written", 32, group, TraceFormat::decimal);
  vcd->add_probe([this, vcd, busy, accesses, read, written] {
    const auto low32 = [](std::uint64_t v) { return v & 0xffffffffu; };
    vcd->set(busy, channel_free_ > sc_core::sc_time_stamp() ? 1 : 0);
    vcd->set(accesses, low32(stats_.accesses));
    vcd->set(read, low32(stats_.bytes_read));
    vcd->set(written, low32(stats_.bytes_written));
  });
}
