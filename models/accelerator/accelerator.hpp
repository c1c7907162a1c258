#pragma once
// The whole accelerator (paper Fig. 3a) as one SystemC hierarchy:
//
//   host_controller --dram_initiator_socket----> dram.host_target_socket
//                   --weight_initiator_socket--> weight_sram.host_target_socket
//                   --pattern_initiator_socket-> pattern_sram.host_target_socket
//                   --data_initiator_socket----> data_sram.host_target_socket
//                   --pac_initiator_socket-----> pattern_config.host_target_socket
//   pe_group        --weight_initiator_socket--> weight_sram.pe_target_socket
//                   --pattern_initiator_socket-> pattern_sram.pe_target_socket
//                   --data_initiator_socket----> data_sram.pe_target_socket
//   host_controller --post_process_initiator_socket--> post_process.host_target_socket
//   post_process    --dram_initiator_socket----> dram.post_process_target_socket
//   pe_group's core (models/pe_core/) takes n, V, K and the mask table from
//   pattern_config's registers; host and PE group hand buffers over through
//   TileHandshake.
#include <cstdint>
#include <vector>

#include <systemc>

#include "models/dram/dram.hpp"
#include "models/host_controller/host_controller.hpp"
#include "models/host_controller/tile_handshake.hpp"
#include "models/pattern_config/pattern_config.hpp"
#include "models/pe_group/pe_group.hpp"
#include "models/post_process/post_process.hpp"
#include "models/sram/sram.hpp"
#include "pcnn/sim/arch_config.hpp"

namespace pcnn {

class Accelerator : public sc_core::sc_module {
 public:
  Accelerator(const sc_core::sc_module_name& name, const ArchConfig& arch,
              std::vector<HostJob>& jobs, ActMode mode, std::uint64_t dram_bytes);

  TileHandshake handshake;
  Dram dram;
  Sram weight_sram;
  Sram pattern_sram;
  Sram data_sram;
  PatternConfig pattern_config;
  PeGroup pe_group;
  PostProcessUnit post_process;  // the operators between convs of a whole network
  HostController host_controller;
};

}  // namespace pcnn
