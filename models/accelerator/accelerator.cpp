#include "models/accelerator/accelerator.hpp"

namespace pcnn {

Accelerator::Accelerator(const sc_core::sc_module_name& name, const ArchConfig& arch,
                         std::vector<HostJob>& jobs, ActMode mode, std::uint64_t dram_bytes)
    : sc_core::sc_module(name),
      dram("dram", arch.dram, dram_bytes),
      weight_sram("weight_sram", arch.weight_sram, arch.clock_period_ns()),
      pattern_sram("pattern_sram", arch.pattern_sram, arch.clock_period_ns()),
      data_sram("data_sram", arch.data_sram, arch.clock_period_ns()),
      pattern_config("pattern_config", arch.clock_period_ns()),
      pe_group("pe_group", arch, pattern_config, handshake),
      post_process("post_process", arch.post_process, arch.clock_period_ns()),
      host_controller("host_controller", arch, pe_group, handshake, jobs, mode) {
  host_controller.dram_initiator_socket.bind(dram.host_target_socket);
  host_controller.weight_initiator_socket.bind(weight_sram.host_target_socket);
  host_controller.pattern_initiator_socket.bind(pattern_sram.host_target_socket);
  host_controller.data_initiator_socket.bind(data_sram.host_target_socket);
  host_controller.pac_initiator_socket.bind(pattern_config.host_target_socket);
  host_controller.post_process_initiator_socket.bind(post_process.host_target_socket);
  post_process.dram_initiator_socket.bind(dram.post_process_target_socket);
  pe_group.weight_initiator_socket.bind(weight_sram.pe_target_socket);
  pe_group.pattern_initiator_socket.bind(pattern_sram.pe_target_socket);
  pe_group.data_initiator_socket.bind(data_sram.pe_target_socket);
}

}  // namespace pcnn
