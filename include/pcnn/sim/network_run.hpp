#pragma once
// A whole int8 network (network.json of an image set) on the simulated
// accelerator, in one simulation: the host allocates every tensor in DRAM
// (channel-last, [H][W][C]), places the network input there, and sequences the
// operators in order. Convs and Gemm / MatMul (as dense 1x1 convs) run on the
// PE group, reading their input from and writing their output to the tensors'
// DRAM addresses; the operators between them run in the post-processing unit;
// a Flatten / Reshape that keeps the bytes' order is only a new name for the
// same DRAM bytes, one that changes it is a host DMA relayout. The int8 output
// of one operator is the input of the next; nothing goes through float.
//
// Outputs are bit-exact against the golden network executor
// (pcnn/golden/golden_network.hpp), which is the reference.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

// Where an operator runs (docs/architecture.md, "Whole networks").
enum class NetUnit { pe_group, post_process, host, none };
const char* to_string(NetUnit unit);
NetUnit unit_of(Int8Op op, const Int8Network& net, const NetNode& node);

struct NetworkStepResult {
  int node = 0;  // index into Int8Network::nodes
  NetUnit unit = NetUnit::none;
  LayerStats stats;  // cycles, stalls, traffic, energy of this operator
  nlohmann::json module_stats;
  double input_density = 0.0;  // fraction of non-zero values in its (first) input
  bool has_dense = false;      // a pattern-pruned conv: the same layer run dense
  LayerStats dense;
};

struct NetworkRunResult {
  std::vector<NetworkStepResult> steps;           // one per node, in execution order
  std::vector<std::vector<std::int8_t>> tensors;  // every tensor read back from DRAM, C order
  LayerStats total;                               // sums over the steps (energy included)
  std::uint64_t pe_group_cycles = 0;              // cycles of the steps on the PE group
  std::uint64_t dense_cycles = 0;                 // the network with every conv dense (0 without)
};

struct NetworkRunOptions {
  SimOptions sim;
  bool with_dense = true;  // also run each pattern-pruned conv dense (speedup)
};

// Checks the network against the accelerator before elaborating: every
// operator has a unit that runs it (else pcnn::Error naming the node and
// operator), the input size, and that every layer tiles on the architecture.
// Then runs it; one simulation per process, like simulate().
NetworkRunResult simulate_network(const ModelImages& images, const Int8Network& net,
                                  const std::vector<std::int8_t>& input, const ArchConfig& arch,
                                  const NetworkRunOptions& options = {});

// The same in a forked child process (see simulate_in_child()).
NetworkRunResult simulate_network_in_child(const ModelImages& images, const Int8Network& net,
                                           const std::vector<std::int8_t>& input,
                                           const ArchConfig& arch,
                                           const NetworkRunOptions& options = {});

}  // namespace pcnn
