#pragma once
// Options and results of a simulation run, shared by the library API, the
// modules' statistics and the command line.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "pcnn/energy/energy_report.hpp"

namespace pcnn {

// Activation sparsity handling (spec section 3).
enum class ActMode {
  off,   // every weight non-zero is a MAC
  gate,  // zero activations skip the MAC (energy), cycles as in off
  skip,  // zero activations are squeezed out; a step costs the slowest PE
};
ActMode parse_act_mode(const std::string& text);  // throws pcnn::Error
const char* to_string(ActMode mode);

// Cycles in which stage 3 issued no MAC, by the reason it was waiting. The
// reasons' names and descriptions are listed once, in kStallReasons
// (stats_schema.hpp), which every table, JSON and CSV writer iterates.
struct StallCycles {
  std::uint64_t weight_sram = 0;      // kernel-register refill reading Weight SRAM
  std::uint64_t pattern_sram = 0;     // refill waiting for SPM indices beyond the weights
  std::uint64_t register_refill = 0;  // decode and register load of a refill
  std::uint64_t data_sram = 0;        // activation window not delivered in time
  std::uint64_t dram = 0;             // waiting for a DMA move (weights, activations, results)
  std::uint64_t fill_drain = 0;       // pipeline fill after a refill, drain at the end
  std::uint64_t writeback = 0;        // requantised outputs written to Data SRAM
  std::uint64_t total() const;
};

struct TrafficStats {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
};

// Register-file and datapath actions of the PE group (energy model inputs;
// the memories' bytes, MACs and SPM decodes are counted in LayerStats itself).
struct DatapathActions {
  std::uint64_t kernel_register_write_bytes = 0;  // refills: bytes loaded into kernel registers
  std::uint64_t kernel_register_reads = 0;        // one word per issued MAC
  std::uint64_t window_write_bytes = 0;           // activations loaded into window registers
  std::uint64_t window_shift_bytes = 0;           // bytes moved along by the window's row shift
  std::uint64_t window_reads = 0;                 // one value per issued MAC
  std::uint64_t psum_reads = 0;                   // 32-bit partial-sum entries read
  std::uint64_t psum_writes = 0;                  // 32-bit partial-sum entries written
  std::uint64_t pointer_generations = 0;          // kernels through Sparsity IO
  std::uint64_t requantisations = 0;              // outputs requantised and written back
  // The post-processing unit's (whole-network runs; zero for a PE-group layer).
  std::uint64_t post_process_line_buffer_read_bytes = 0;   // one byte per element op
  std::uint64_t post_process_line_buffer_write_bytes = 0;  // bytes it read from DRAM
  std::uint64_t post_process_element_ops = 0;  // input elements or window taps on the lanes
};

struct LayerStats {
  std::uint64_t cycles = 0;          // start of the layer to its last result in DRAM
  double time_ns = 0.0;              // cycles at the clock
  std::uint64_t mac_cycles = 0;      // cycles in which stage 3 issued MACs
  StallCycles stalls;                // mac_cycles + stalls.total() == cycles
  std::uint64_t macs_issued = 0;
  std::uint64_t macs_effectual = 0;  // issued with non-zero weight and activation
  double lane_utilisation = 0.0;     // macs_issued / (cycles * PEs * lanes)
  std::uint64_t refills = 0;         // kernel-register refills
  std::uint64_t pattern_decodes = 0;
  std::uint64_t steps = 0;           // (group, output position) steps through stage 3
  int bands = 0, tiles = 0, groups = 0, chunks = 0;
  bool spatially_tiled = false;      // more than one output-row band
  int passes = 1;                    // accelerator passes (more when the layer was lowered)
  std::string lowering;              // how the layer was rewritten for the datapath, or ""
  TrafficStats weight_sram, pattern_sram, data_sram, dram;
  DatapathActions actions;
  std::int64_t dense_macs = 0;       // the layer's MACs computed dense (TOPS/W)
  EnergyReport energy;               // from the counts and the architecture's energy section
};

// VCD tracing of the pipeline: one PE plus group-level signals, limited to a
// window of cycles (counted from the start of the run, over all layers).
struct TraceOptions {
  std::string vcd_path;  // empty: no trace
  std::uint64_t from_cycle = 0;
  std::uint64_t to_cycle = std::numeric_limits<std::uint64_t>::max();
  int traced_pe = 0;
  // The trace stops the run with an error when it grows past this size.
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
};

constexpr std::uint64_t kDefaultMaxCycles = 10'000'000'000ULL;

// How the PE group is clocked. cycle: every edge at its simulated time. lt:
// loosely timed (the TLM-2.0 LT / quantum-keeper idiom), the PE group runs
// whole passes ahead of simulated time and synchronises with the host only at
// DMA boundaries; same core, same cycles, stalls, traffic and outputs.
enum class Timing { cycle, lt };
Timing parse_timing(const std::string& text);  // "cycle" or "lt"; throws pcnn::Error
const char* to_string(Timing timing);

struct SimOptions {
  ActMode act_mode = ActMode::off;
  Timing timing = Timing::cycle;
  TraceOptions trace;
  std::string arch_where = "architecture";  // names the architecture in messages
  // Book the clock edges in which only the MAC stage counts down in one step
  // instead of evaluating each (identical results; false evaluates every edge).
  bool skip_idle_edges = true;
  // The run stops with an error once simulated time passes this many clock
  // cycles (pcnn-sim run --max-cycles).
  std::uint64_t max_cycles = kDefaultMaxCycles;
  // Called after each layer with (layers done, layers in total), e.g. for progress.
  std::function<void(std::size_t, std::size_t)> on_layer_done;
};

}  // namespace pcnn
