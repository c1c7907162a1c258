#pragma once
// The pattern-aware PE group (paper Fig. 4, 5) in the SystemC model: the
// timing shell around the plain C++ core (models/pe_core/pe_core.hpp). It
// clocks the core once per clock period while a layer runs, performs the
// core's memory accesses as TLM transactions on its three initiator sockets
// (converting their annotated delays to cycles), connects the core's handshake
// to the host's buffer rings, and writes the VCD.
//
// The clock: the SC_METHOD re-arms itself one period ahead while a layer runs
// (no sc_clock). While the whole pipeline waits for a DMA move it sleeps on the
// handshake event and books the skipped cycles as DRAM stalls, so a run whose
// host and PE group wait on each other runs out of events and is reported.
// Edges in which only stage 3 counts down are booked at once.
//
// Fast mode (--timing lt, the LT / quantum-keeper idiom): the method keeps
// clocking the core ahead of simulated time, in a local time offset, for as
// long as no edge can depend on the host beyond what the buffer rings already
// show (PeCore::next_edge_needs_host: a buffer not yet filled, a release, an
// output fill), i.e. through the passes between DMA boundaries, and returns to
// the kernel at those boundaries (or after a quantum). A ready buffer stays
// ready until the core releases it, and every release and fill is made at its
// own simulated time, so the results equal the cycle-level run's.
#include <cstdint>
#include <memory>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/host_controller/tile_handshake.hpp"
#include "models/pattern_config/pattern_config.hpp"
#include "models/pe_core/pe_core.hpp"
#include "models/sram/gather_extension.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"
#include "pcnn/sim/stats_source.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace pcnn {

class VcdWriter;

class PeGroup : public sc_core::sc_module, public StatsSource, private PeCorePorts {
 public:
  tlm_utils::simple_initiator_socket<PeGroup> weight_initiator_socket;
  tlm_utils::simple_initiator_socket<PeGroup> pattern_initiator_socket;
  tlm_utils::simple_initiator_socket<PeGroup> data_initiator_socket;

  SC_HAS_PROCESS(PeGroup);
  PeGroup(const sc_core::sc_module_name& name, const ArchConfig& arch, const PatternConfig& pac,
          TileHandshake& handshake);
  ~PeGroup() override;

  // Host side: run one layer with the pattern parameters the host programmed
  // into Pattern Config; done_event fires when its last band is written back
  // to Data SRAM. The layer and plan must outlive the run.
  void start(const SpmLayer& layer, const TilePlan& plan, ActMode mode);
  bool busy() const { return core_.running(); }
  sc_core::sc_event done_event;
  sc_core::sc_time done_time() const { return done_time_; }

  const PeCoreStats& stats() const { return core_.stats(); }
  const PeCore& core() const { return core_; }
  nlohmann::json stats_json() const override;
  std::uint64_t cycle() const { return core_.cycle(); }  // clock edges seen while busy

  // Evaluate every clock edge (false) or book the edges in which only stage 3
  // counts down at once (true, the default); both give identical results.
  void set_idle_skipping(bool on) { skip_idle_ = on; }
  // Fast mode (see above); not with a VCD, whose edges are evaluated in time.
  void set_loosely_timed(bool on) { loosely_timed_ = on; }
  // Most edges evaluated ahead of simulated time in one go (the quantum).
  static constexpr std::uint64_t kQuantumEdges = 1'000'000;

  // Trace one PE plus group-level signals into `vcd` for cycles [from, to].
  void attach_tracer(VcdWriter* vcd, std::uint64_t from, std::uint64_t to, int traced_pe);

 private:
  void on_clock();
  const sc_core::sc_event_or_list* sleep_events() const;
  std::uint64_t to_cycles(const sc_core::sc_time& t) const;
  std::uint64_t transport(tlm_utils::simple_initiator_socket<PeGroup>& socket, tlm::tlm_command cmd,
                          std::uint64_t address, std::uint8_t* data, std::size_t length,
                          const std::vector<MemSegment>* segments, const char* what);

  // PeCorePorts
  std::uint64_t read_weight_sram(std::uint64_t address, std::uint8_t* data,
                                 std::size_t length) override;
  std::uint64_t read_pattern_sram(std::uint64_t address, std::uint8_t* data,
                                  std::size_t length) override;
  std::uint64_t gather_data_sram(const std::vector<MemSegment>& segments, std::uint8_t* data,
                                 std::size_t length) override;
  std::uint64_t scatter_data_sram(const std::vector<MemSegment>& segments, const std::uint8_t* data,
                                  std::size_t length) override;
  bool weight_chunk_ready(std::int64_t seq) override { return handshake_.weight_chunks.ready(seq); }
  void release_weight_chunk() override { handshake_.weight_chunks.release(); }
  bool input_band_ready(int band) override { return handshake_.input_bands.ready(band); }
  void release_input_band() override { handshake_.input_bands.release(); }
  bool output_band_free(int band) override { return handshake_.output_bands.free_for(band); }
  void fill_output_band() override { handshake_.output_bands.fill(); }

  void setup_tracer();
  void trace_cycle(bool mac);

  const PatternConfig& pac_;
  TileHandshake& handshake_;
  // The events the pipeline sleeps on, one list per PeWait value.
  sc_core::sc_event_or_list weight_chunk_filled_, output_band_released_, input_band_filled_,
      weight_chunk_or_input_band_filled_;
  const int pe_count_, lanes_;
  sc_core::sc_time period_;
  PeCore core_;
  tlm::tlm_generic_payload trans_;
  GatherExtension gather_;

  sc_core::sc_event start_event_;
  sc_core::sc_time last_tick_;
  sc_core::sc_time done_time_;
  bool sleeping_ = false;
  bool skip_idle_ = true;
  bool loosely_timed_ = false;

  // Tracing.
  VcdWriter* vcd_ = nullptr;
  std::uint64_t trace_from_ = 0, trace_to_ = 0;
  int traced_pe_ = 0;
  struct TraceIds {  // VCD handles
    int state, band, tile, group;
    int s1_valid, s1_busy, s1_pos, s1_amask;
    int s2_valid, s2_pos, s2_wmask, s2_amask, s2_smask, s2_count;
    int s2_offset[kMaxKernelPositions];
    int s3_valid, s3_pos, s3_cycle, macs;
    int lane_w[8], lane_a[8], lane_p[8];
    int psum;
    int w_strobe, w_addr, p_strobe, p_addr, d_strobe, d_write, d_addr;
    int weight_chunks_filled, weight_chunks_released, input_bands_filled, input_bands_released,
        output_bands_filled, output_bands_released;
  };
  TraceIds ids_{};
};

}  // namespace pcnn
