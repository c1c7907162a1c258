// The host's side of the post-processing unit in a whole-network run: the
// descriptor's register words go out through the unit's host socket (each
// write costs the unit's register-write time), the last one starts the
// operation, and the host thread sleeps until the unit has written its output
// to DRAM. A refused descriptor (the CONTROL write's error response) stops the
// run with the unit's reason.
#include "models/host_controller/host_controller.hpp"
#include "models/post_process/post_op_registers.hpp"

namespace pcnn {

void HostController::run_post_op(const PostOpDescriptor& op, PostProcessUnit& unit) {
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  for (const PostRegisterWrite& w : post_op_register_writes(op)) {
    std::vector<std::uint8_t> bytes = w.bytes;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(w.address);
    t.set_data_ptr(bytes.data());
    t.set_data_length(static_cast<unsigned int>(bytes.size()));
    t.set_streaming_width(static_cast<unsigned int>(bytes.size()));
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    post_process_initiator_socket->b_transport(t, delay);
    if (t.is_response_error())
      SC_REPORT_ERROR(name(),
                      ("post-processing unit refused the operation: " +
                       (unit.last_error().empty() ? t.get_response_string() : unit.last_error()))
                          .c_str());
  }
  wait(delay);
  while (unit.busy()) wait(unit.done_event());
}

}  // namespace pcnn
