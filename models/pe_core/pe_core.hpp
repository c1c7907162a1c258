#pragma once
// The PE group's core (paper Fig. 4, 5) as plain C++, clocked by its SystemC
// shell (PeGroup) or directly by a test: pe_count PEs with lanes_per_pe MAC
// lanes each in a 3-stage pipeline, evaluated back to front once per clock
// edge (tick):
//   pass controller  refill / write-back sequencing    (pass_controller.*)
//   stage 3          MAC lanes into the partial sums   (mac_lanes.*, partial_sums.*)
//   stage 2          pointer generation                (pointer_generator.*)
//   stage 1          pre-process: window register      (window_register.*)
// plus the kernel registers with the SPM decoder (kernel_register.*) and stall
// attribution (stall_attribution.hpp). Every memory access and handshake goes
// through PeCorePorts; the core keeps no time but its cycle count.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pe_core/kernel_register.hpp"
#include "models/pe_core/mac_lanes.hpp"
#include "models/pe_core/partial_sums.hpp"
#include "models/pe_core/pass_controller.hpp"
#include "models/pe_core/pe_core_ports.hpp"
#include "models/pe_core/pe_layer.hpp"
#include "models/pe_core/pointer_generator.hpp"
#include "models/pe_core/stall_attribution.hpp"
#include "models/pe_core/window_register.hpp"
#include "pcnn/sim/arch_config.hpp"

namespace pcnn {

struct PeCoreStats {
  std::uint64_t cycles = 0;
  std::uint64_t mac_cycles = 0;
  StallCycles stalls;
  std::uint64_t macs_issued = 0;
  std::uint64_t macs_effectual = 0;
  std::uint64_t refills = 0;
  std::uint64_t steps = 0;
  std::uint64_t spm_decodes = 0;
};

// The handshake the whole pipeline waits for when nothing can move before it
// (weight_chunk_or_input_band: a refill and stage 1's input band both wait for DRAM).
enum class PeWait { none, weight_chunk, output_band, input_band, weight_chunk_or_input_band };

// Signals of one cycle for the VCD (filled only while tracing is on).
struct PeCoreTrace {
  bool wsram = false, psram = false, dsram = false, dsram_write = false;
  std::uint64_t waddr = 0, paddr = 0, daddr = 0;
  std::uint32_t s2_wmask = 0, s2_amask = 0, s2_smask = 0, s2_count = 0;
  std::int32_t lane_w[8] = {}, lane_a[8] = {};
  int lanes_used = 0;
  int macs = 0;
  int s3_pos = 0, s3_t = 0;
  std::int32_t psum_before = 0;  // traced PE's running partial sum
};

class PeCore : private PassActions {
 public:
  PeCore(const ArchConfig& arch, PeCorePorts& ports);

  // Starts a layer: pattern parameters from Pattern Config's table `pac`, the
  // cut from `plan`. The three must outlive the run. Throws pcnn::Error when
  // the table and the plan disagree (n, K, index width).
  void start(const SpmLayer& layer, const TilePlan& plan, const PatternTable& pac, ActMode mode);
  bool running() const { return running_; }

  // One clock edge.
  void tick();
  // Edges after this one in which nothing but stage 3's cycle count can change
  // (the step's last edge excluded); book_mac_edges() accounts for them at once.
  std::uint64_t mac_only_edges_ahead() const;
  void book_mac_edges(std::uint64_t edges);
  // Whether the next edge may depend on the host beyond what the buffer rings
  // show now (a buffer not ready yet, a release or a fill): the fast mode
  // evaluates edges ahead of simulated time only while this is false.
  bool next_edge_needs_host() const;
  // The handshake without which no stage can move, if any; while it is not
  // given, every edge is a DRAM stall (book_dram_stalls).
  PeWait waiting_for() const;
  void book_dram_stalls(std::uint64_t edges);

  std::uint64_t cycle() const { return cycle_; }  // edges seen while running, all layers
  const PeCoreStats& stats() const { return stats_; }
  void reset_stats();
  // Per-block action counts for the energy model (docs/architecture.md).
  nlohmann::json block_counters() const;

  // Build every gate/skip step's full pointer stream (the trace shows its
  // pointers); off, a step only counts the MACs each PE issues. Results are
  // identical either way.
  void set_stream_detail(bool on) { stream_detail_ = on; }
  // Tracing: fill trace() each edge for processing element `pe`.
  void set_tracing(bool on, int pe) {
    trace_on_ = on;
    traced_pe_ = pe;
  }
  const PeCoreTrace& trace() const { return tr_; }
  // Pipeline state for the trace.
  const PeLayer& layer() const { return L_; }
  PassController::State controller_state() const { return ctrl_.state(); }
  int controller_pass() const { return ctrl_.pass(); }
  bool s1_valid() const { return s1_.valid; }
  bool s1_busy() const { return s1_.valid && cycle_ < s1_.ready; }
  int s1_pos() const { return s1_.pos; }
  std::uint16_t s1_act_mask() const { return s1_.valid ? win_.act_masks(s1_.window)[0] : 0; }
  bool s2_valid() const { return s2_.valid; }
  int s2_pos() const { return s2_.pos; }

 private:
  struct Item {  // one (group, output position) step in the pipeline
    bool valid = false;
    int pass = 0;
    int pos = 0;
    int window = 0;
    const std::uint16_t* issued = nullptr;  // [pe] MACs each PE issues in the step
    const PointerStream* stream = nullptr;  // the step's pointers (trace only; null in
                                            // gate/skip without stream detail)
    int cycles = 0;           // stage-3 cycles of the step
    int t = 0;                // stage-3 cycles done
    std::uint64_t ready = 0;  // cycle from which the next stage may take it
  };

  bool registers_in_use() const override { return s3_.valid || s2_.valid; }
  RefillTiming start_refill(int q) override;
  void start_pass(int q) override;
  std::uint64_t start_writeback(int q) override;

  void mac_cycle();
  void advance_stage3();
  void advance_stage2();
  void advance_stage1();

  PeCorePorts& ports_;
  const int P_, regw_;
  const bool double_registers_;  // kernel-register double buffering
  PeLayer L_;
  bool running_ = false;

  PassController ctrl_;
  KernelRegister kreg_;
  WindowRegister win_;
  PointerGenerator ptr_;
  MacLanes mac_;
  PartialSums psum_;
  // Gate and skip: the issued MACs of the steps in stages 2 and 3 (and their
  // full streams with stream detail on).
  std::vector<std::uint16_t> step_issued_[2];
  PointerStream dyn_stream_[2];
  int dyn_next_ = 0;
  bool stream_detail_ = false;

  Item s1_, s2_, s3_;
  int s1_next_pass_ = 0, s1_next_pos_ = 0;
  bool s1_wait_dram_ = false;
  bool s1_release_band_ = false;

  std::uint64_t cycle_ = 0;
  PeCoreStats stats_;
  bool trace_on_ = false;
  int traced_pe_ = 0;
  PeCoreTrace tr_;
};

}  // namespace pcnn
