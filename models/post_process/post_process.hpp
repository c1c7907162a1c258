#pragma once
// Post-processing unit: executes the int8 operators between convs of a whole
// network (pools, Add, Concat, Relu/Clip, Resize, DepthToSpace, scale bridges)
// beside the PE group, which only runs convs (docs/architecture.md,
// "Post-processing unit"). Tensors are channel-last in DRAM (post_op.hpp).
//
//   host --host_target_socket--> [registers] -> plan -> steps:
//        DRAM --dram_initiator_socket--> line buffer -> lanes -> DRAM
//
// The host writes an op descriptor into the registers (post_op_registers.hpp)
// and 1 to CONTROL; the unit reads its input tensors from DRAM, computes, writes
// the output tensor to DRAM, then clears busy() and notifies done_event().
// Host side, in an SC_THREAD:
//
//   for (const PostRegisterWrite& w : post_op_register_writes(descriptor))
//     write w.bytes at w.address through the socket bound to host_target_socket,
//     accumulating the delay; check the response (an invalid descriptor makes
//     the CONTROL write fail with TLM_GENERIC_ERROR_RESPONSE, last_error() says why);
//   wait(delay);
//   while (unit.busy()) wait(unit.done_event());
//
// Call validate_post_op() first to get the reason as a pcnn::Error instead.
// Timing: one op is setup_cycles, then its steps (post_op_plan.hpp) in a
// double-buffered pipeline: the reads of step s+1 go out when step s starts
// computing, the writes of step s when it has computed; a step waits for its
// reads and for the writes of step s-2 (two output buffers); the op ends when
// its last write has landed. Every wait is counted as a DRAM stall. The unit
// runs on the accelerator clock and resumes on its edges.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "models/post_process/post_op.hpp"
#include "models/post_process/post_op_plan.hpp"
#include "models/post_process/post_op_registers.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

struct PostProcessStats {
  std::uint64_t ops = 0;
  std::array<std::uint64_t, kPostOpKinds> ops_by_kind{};  // index: PostOp code - 1
  std::uint64_t busy_cycles = 0;  // from start to the last write landed, all ops
  std::uint64_t setup_cycles = 0;
  std::uint64_t compute_cycles = 0;           // lanes working
  std::uint64_t dram_read_stall_cycles = 0;   // waiting for input bytes
  std::uint64_t dram_write_stall_cycles = 0;  // waiting for output writes to land
  std::uint64_t dram_bytes_read = 0, dram_bytes_written = 0;
  std::uint64_t dram_reads = 0, dram_writes = 0;  // transactions
  std::uint64_t line_buffer_bytes_written = 0;    // = dram_bytes_read
  std::uint64_t line_buffer_bytes_read = 0;       // one per element op
  std::uint64_t element_ops = 0;                  // input elements / window taps consumed
  std::uint64_t register_words_written = 0;
};

class PostProcessUnit : public sc_core::sc_module, public StatsSource {
 public:
  tlm_utils::simple_target_socket<PostProcessUnit> host_target_socket;
  tlm_utils::simple_initiator_socket<PostProcessUnit> dram_initiator_socket;

  SC_HAS_PROCESS(PostProcessUnit);
  PostProcessUnit(const sc_core::sc_module_name& name, const PostProcessConfig& cfg,
                  double clock_period_ns);

  const PostProcessConfig& config() const { return cfg_; }
  bool busy() const { return busy_; }
  const sc_core::sc_event& done_event() const { return done_event_; }
  // Why the last start was refused (empty when it was not).
  const std::string& last_error() const { return last_error_; }

  const PostProcessStats& stats() const { return stats_; }
  void reset_stats() { stats_ = PostProcessStats{}; }
  nlohmann::json stats_json() const override;

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  void start(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay);
  void run_thread();
  void execute(const PostOpDescriptor& d);
  // Issues the step's DRAM transfers now; returns when the last one lands.
  sc_core::sc_time read_step(const PostOpDescriptor& d, const PostStep& s);
  sc_core::sc_time write_step(const PostOpDescriptor& d, const PostStep& s);
  sc_core::sc_time dram(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                        std::int64_t bytes);
  // Waits until `t` rounded up to a clock edge; returns the cycles waited.
  std::uint64_t wait_until(const sc_core::sc_time& t);
  std::uint64_t to_cycles(const sc_core::sc_time& t) const;

  PostProcessConfig cfg_;
  sc_core::sc_time cycle_;
  std::vector<std::uint8_t> regs_;
  PostOpDescriptor pending_;
  bool busy_ = false;
  std::string last_error_;
  sc_core::sc_event start_event_, done_event_;
  std::vector<std::vector<std::int8_t>> inputs_;  // the bytes read so far
  std::vector<std::int8_t> output_;
  PostProcessStats stats_;
};

}  // namespace pcnn
