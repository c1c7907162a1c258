#pragma once
// Host controller: the TLM initiator that runs a list of layers. Per layer it
// places the images and the input in DRAM, programs Pattern Config, starts the
// PE group, and moves tiles by DMA: input bands and weight/pattern chunks from
// DRAM into the SRAMs (load thread), output bands from Data SRAM back to DRAM
// (drain thread). With double buffering the next tile moves while the current
// one computes. Loosely timed: a move's transactions accumulate their delay,
// then the thread waits once.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/dram/read_ahead_extension.hpp"
#include "models/host_controller/tile_handshake.hpp"
#include "models/pe_group/pe_group.hpp"
#include "models/post_process/post_process.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace pcnn {

// One layer to run, prepared before elaboration. The layer gives the geometry
// and the per-channel output constants; its weights, SPM indices and Pattern
// Config record are the bytes of the image files at the given offsets.
struct HostJob {
  const SpmLayer* layer = nullptr;
  const std::vector<std::int8_t>* input = nullptr;  // [C][H][W]
  std::shared_ptr<const ImageFiles> files;
  std::uint64_t weight_offset = 0, pattern_offset = 0, pattern_config_offset = 0;
  TilePlan plan;
  // Whole-network runs (src/sim/network_run.cpp): the images lie at
  // `images_base` and the input and output tensors at the addresses the host
  // allocated for them (channel-last, as every tensor in DRAM); the input is
  // already in DRAM (input == nullptr) and the output stays there.
  bool network_placement = false;
  std::uint64_t images_base = 0, input_address = 0, output_address = 0;
  // Filled by the host.
  std::vector<std::int8_t> output;  // [M][OH][OW]
  sc_core::sc_time start_time, end_time;
  bool done = false;
};

// Uses the image files `files` for the job's layer at the offsets the layer
// carries (from the manifest).
void use_image_files(HostJob& job, std::shared_ptr<const ImageFiles> files);
// Encodes the job's layer alone with the image writer (a layer that comes from
// no image set: built in memory, lowered, or a dense twin).
void use_encoded_images(HostJob& job);

// DRAM layout of one layer (bytes): weights.bin from address 0, patterns.bin
// after it, then the input and the output; `weights` and `patterns` are the
// addresses of the layer's own parts (the manifest's offsets). With a network
// placement the images start at images_base and `images_end` is where they
// end; input and output are the job's addresses.
struct DramLayout {
  std::uint64_t weights = 0, patterns = 0, input = 0, output = 0, end = 0;
  std::uint64_t images_end = 0;
  std::uint64_t weight_bytes = 0, pattern_bytes = 0;  // sizes of the layer's parts
};
DramLayout dram_layout(const HostJob& job);

class HostController : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<HostController> dram_initiator_socket;
  tlm_utils::simple_initiator_socket<HostController> weight_initiator_socket;
  tlm_utils::simple_initiator_socket<HostController> pattern_initiator_socket;
  tlm_utils::simple_initiator_socket<HostController> data_initiator_socket;
  tlm_utils::simple_initiator_socket<HostController> pac_initiator_socket;
  tlm_utils::simple_initiator_socket<HostController> post_process_initiator_socket;

  SC_HAS_PROCESS(HostController);
  HostController(const sc_core::sc_module_name& name, const ArchConfig& arch, PeGroup& pe_group,
                 TileHandshake& handshake, std::vector<HostJob>& jobs, ActMode mode);

  bool finished() const { return finished_; }
  // Called at the start and end of each layer (statistics snapshots).
  std::function<void(std::size_t)> on_layer_start;
  std::function<void(std::size_t)> on_layer_end;
  // Whole-network runs: called by the load thread before it sets up each layer
  // and after the last one, so the operators between layers run in order
  // there (they may wait).
  std::function<void(std::size_t)> before_layer;
  std::function<void()> after_layers;

  // DRAM access for the network sequencer: untimed (the network input placed,
  // results read back) and timed (a host DMA; the delay accumulates). A write
  // whose data stays unchanged while `shared` lives (the image files) may be
  // mapped by the DRAM instead of copied (SharedDataExtension).
  void debug_write_dram(std::uint64_t address, const std::uint8_t* data, std::size_t length,
                        std::shared_ptr<const void> shared = nullptr);
  void debug_read_dram(std::uint64_t address, std::uint8_t* data, std::size_t length);
  // Programs one operation into the post-processing unit (its registers
  // through post_process_initiator_socket), starts it and waits until it has
  // written its output to DRAM (host_post_process.cpp). Call from a thread.
  void run_post_op(const PostOpDescriptor& op, PostProcessUnit& unit);
  void dram_transfer(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                     std::size_t length, sc_core::sc_time& delay) {
    transfer(dram_initiator_socket, cmd, address, data, length, delay);
  }

 private:
  void load_thread();
  void drain_thread();
  void program_pattern_config(const HostJob& job);
  void load_input_band(const HostJob& job, const DramLayout& dl, int band);
  void load_weight_chunk(const HostJob& job, const DramLayout& dl, int tile, int chunk,
                         std::int64_t seq);
  // Timed transfers: accumulate into `delay`.
  // `next` (reads only) announces a coming read from the same target.
  void transfer(tlm_utils::simple_initiator_socket<HostController>& socket, tlm::tlm_command cmd,
                std::uint64_t address, std::uint8_t* data, std::size_t length,
                sc_core::sc_time& delay, ReadAheadExtension* next = nullptr);

  const ArchConfig arch_;
  PeGroup& pe_group_;
  TileHandshake& handshake_;
  std::vector<HostJob>& jobs_;
  ActMode mode_;
  sc_core::sc_event layer_done_;
  std::size_t layer_started_ = 0;  // layers the load thread has started
  bool finished_ = false;
  bool load_finished_ = false;  // the load thread has returned
  sc_core::sc_event load_finished_event_;
  std::vector<std::uint8_t> buf_, buf2_;     // the load thread's, reused across layers
  std::vector<std::uint8_t> drain_buf_;      // the drain thread's
  std::vector<std::uint8_t> wsram_, psram_;  // a chunk laid out for Weight and Pattern SRAM
  tlm::tlm_generic_payload payload_;         // reused by transfer()
  bool payload_in_use_ = false;
};

}  // namespace pcnn
