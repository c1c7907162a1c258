#pragma once
// The pattern-aware PE group (paper Fig. 4, 5): pe_count PEs with
// lanes_per_pe MAC lanes each, a 3-stage pipeline evaluated by one clocked
// SC_METHOD, back to front:
//   stage 1  pre-process: load the activation window of the current input
//            channel group from Data SRAM (one gather transaction), make the
//            activation masks;
//   stage 2  pointer generation: per PE and kernel, sparsity mask and pointers
//            (Sparsity IO);
//   stage 3  MACs: every PE streams its effectual MACs, lanes_per_pe a cycle,
//            across kernel boundaries, into its partial sums.
// Between input channel groups the kernel registers are refilled from Weight
// SRAM and the SPM indices from Pattern SRAM are decoded (SPM decoder). After
// the last group of a tile: bias, ReLU, requantisation, write back.
// The datapath state is plain arrays; no signals are written per cycle.
#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/host_controller/tile_handshake.hpp"
#include "models/pattern_config/pattern_config.hpp"
#include "models/sparsity_io/sparsity_io.hpp"
#include "models/spm_decoder/spm_decoder.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"
#include "pcnn/sim/stats_source.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace pcnn {

class VcdWriter;

struct PeGroupStats {
  std::uint64_t cycles = 0;
  std::uint64_t mac_cycles = 0;
  StallCycles stalls;
  std::uint64_t macs_issued = 0;
  std::uint64_t macs_effectual = 0;
  std::uint64_t refills = 0;
  std::uint64_t steps = 0;
};

// The clock: the SC_METHOD re-arms itself one period ahead while a layer runs.
// While the whole pipeline waits for a DMA move it sleeps on the handshake
// event and books the skipped cycles as DRAM stalls; so a run whose host and
// PE group wait on each other runs out of events and is reported, instead of
// spinning on a free-running sc_clock.
class PeGroup : public sc_core::sc_module, public StatsSource {
 public:
  tlm_utils::simple_initiator_socket<PeGroup> weight_initiator_socket;
  tlm_utils::simple_initiator_socket<PeGroup> pattern_initiator_socket;
  tlm_utils::simple_initiator_socket<PeGroup> data_initiator_socket;
  SpmDecoder spm_decoder;
  SparsityIo sparsity_io;

  SC_HAS_PROCESS(PeGroup);
  PeGroup(const sc_core::sc_module_name& name, const ArchConfig& arch, const PatternConfig& pac,
          TileHandshake& handshake);

  // Host side: run one layer; done_event fires when its last band is written
  // back to Data SRAM. The layer and plan must outlive the run.
  void start(const SpmLayer& layer, const TilePlan& plan, ActMode mode);
  bool busy() const { return layer_ != nullptr; }
  sc_core::sc_event done_event;
  sc_core::sc_time done_time() const { return done_time_; }

  const PeGroupStats& stats() const { return stats_; }
  void reset_stats() { stats_ = PeGroupStats{}; }
  nlohmann::json stats_json() const override;
  std::uint64_t cycle() const { return cycle_; }  // clock edges seen while busy, all layers

  // Evaluate every clock edge (false) or book the edges in which only stage 3
  // counts down at once (true, the default); both give identical results.
  void set_idle_skipping(bool on) { skip_idle_ = on; }

  // Trace one PE plus group-level signals into `vcd` for cycles [from, to].
  void attach_tracer(VcdWriter* vcd, std::uint64_t from, std::uint64_t to, int traced_pe);

 private:
  enum class Ctrl { wait_refill, refilling, active, wait_writeback, writeback, done };
  enum class Reason { none, weight, pattern, refill, writeback, dram };

  struct Stream {  // stage-2 output: per PE the effectual MACs of one step
    std::vector<std::uint16_t> count;    // [pe]
    std::vector<std::uint16_t> weight;   // [pe][slot] pointer into the kernel register
    std::vector<std::uint16_t> act;      // [pe][slot] pointer into the window
    std::vector<std::int8_t> wval;       // [pe][slot] the register word the pointer selects
  };
  struct Item {  // one (group, output position) step
    bool valid = false;
    int pass = 0;
    int pos = 0;
    int window = 0;          // index into windows_
    const Stream* stream = nullptr;
    int cycles = 0;          // stage-3 cycles of the step
    int t = 0;               // stage-3 cycles done
    std::uint64_t ready = 0; // cycle from which the next stage may take it
  };

  void on_clock();
  void controller_step();
  void start_refill();
  void start_writeback();
  void finish_pass();
  void mac_cycle();
  void execute_step();
  void advance_stage3();
  void advance_stage2();
  void advance_stage1();
  void attribute_stall();
  void build_stream(Stream& s, const std::uint16_t* act_masks, int cg) ;
  void trace_cycle(bool mac);
  void setup_tracer();

  int pass_group(int q) const { return q % plan_->groups; }
  int pass_tile(int q) const { return (q / plan_->groups) % plan_->tiles; }
  int pass_band(int q) const { return q / (plan_->groups * plan_->tiles); }
  int band_positions(int band) const;
  int active_pes(int tile) const;
  std::int64_t chunk_seq(int q) const;
  std::uint64_t to_cycles(const sc_core::sc_time& t) const;

  const ArchConfig arch_;
  TileHandshake& handshake_;
  sc_core::sc_time period_;
  int P_, lanes_, regw_;

  // Current layer.
  const SpmLayer* layer_ = nullptr;
  const TilePlan* plan_ = nullptr;
  ActMode mode_ = ActMode::off;
  int K_ = 9, n_ = 9, kpr_ = 6, C_ = 0, M_ = 0, OW_ = 0;
  int passes_ = 0;

  // Controller.
  Ctrl ctrl_ = Ctrl::done;
  Reason reason_ = Reason::none;
  int ctrl_pass_ = 0;
  int exec_count_ = 0;  // positions of ctrl_pass_ through stage 3
  std::uint64_t phase_start_ = 0, phase_end_ = 0;
  std::uint64_t refill_weight_cycles_ = 0, refill_pattern_cycles_ = 0;

  // Datapath state.
  std::vector<std::int8_t> kreg_;          // [pe][regw] kernel registers
  std::vector<std::uint16_t> wmask_;       // [pe][kpr] decoded weight masks
  std::vector<std::uint8_t> pattern_buf_;  // SPM indices of one refill
  std::vector<std::int32_t> psum_;         // [pe][position in band]
  int psum_stride_ = 0;
  Stream static_stream_;                   // mode off: pointers fixed per refill
  Stream dyn_stream_[2];
  int dyn_next_ = 0;
  static constexpr int kWindows = 3;
  std::vector<std::int8_t> windows_[kWindows];    // [c][K] per item
  std::vector<std::uint16_t> act_masks_[kWindows];  // [c]
  int window_next_ = 0;
  std::vector<std::int8_t> shift_reg_;     // stage-1 window register [c][K]
  std::vector<std::uint8_t> gather_buf_;

  // Pipeline registers.
  Item s1_, s2_, s3_;
  int s1_next_pass_ = 0, s1_next_pos_ = 0;
  bool s1_prev_valid_ = false;
  int s1_prev_pass_ = 0, s1_prev_oy_ = 0, s1_prev_ox_ = 0;
  bool s1_wait_dram_ = false;
  bool s1_release_band_ = false;

  std::uint64_t cycle_ = 0;
  sc_core::sc_event start_event_;
  sc_core::sc_time last_tick_;
  sc_core::sc_time done_time_;
  bool sleeping_ = false;
  const sc_core::sc_event* sleep_event() const;
  std::uint64_t idle_cycles_ahead() const;
  bool skip_idle_ = true;
  PeGroupStats stats_;
  tlm::tlm_generic_payload trans_;

  // Tracing.
  VcdWriter* vcd_ = nullptr;
  bool trace_on_ = false;  // this cycle is inside the trace window
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
  };
  TraceIds ids_{};
  struct TraceState {
    bool wsram = false, psram = false, dsram = false, dsram_write = false;
    std::uint64_t waddr = 0, paddr = 0, daddr = 0;
    std::uint32_t s2_wmask = 0, s2_amask = 0, s2_smask = 0, s2_count = 0;
    std::int32_t lane_w[8] = {}, lane_a[8] = {};
    int lanes_used = 0;
    int macs = 0;
    int s3_pos = 0, s3_t = 0;
    std::int32_t psum_before = 0;  // traced PE's partial sum when the step began
  } tr_;

 public:
  ~PeGroup() override;
};

}  // namespace pcnn
