#pragma once
// Library entry point of the accelerator model: elaborates the SystemC
// hierarchy once and runs a list of layers through it in sequence.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/image/model_images.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

struct LayerJob {
  SpmLayer layer;
  std::vector<std::int8_t> input;  // [C][H][W]
  // The image files the layer was read from (ModelImages::files): the host
  // copies the layer's parts of them byte for byte into DRAM and programs
  // Pattern Config from its record. Null: the layer is encoded with the image
  // writer first (a layer built in memory, a dense twin).
  std::shared_ptr<const ImageFiles> files;
};

struct LayerResult {
  std::vector<std::int8_t> output;  // [M][OH][OW]
  LayerStats stats;
  // Every module's own counters for this layer, by hierarchical name
  // ("top.weight_sram", "top.pe_group", ...), from one walk of the hierarchy.
  nlohmann::json module_stats;
};

// Throws pcnn::Error("--max-cycles", ...) unless 1 <= max_cycles and the time
// they span at the architecture's clock fits SystemC's 64-bit picoseconds.
void check_max_cycles(std::uint64_t max_cycles, const ArchConfig& arch);

// Checks every job (layer consistency, input shape, that one tile fits the
// architecture) before elaborating; throws pcnn::Error naming the layer, the
// input or the architecture key. SystemC elaborates one model per process, so
// simulate() runs once per process; a second call throws pcnn::Error.
std::vector<LayerResult> simulate(const std::vector<LayerJob>& jobs, const ArchConfig& arch,
                                  const SimOptions& options = {});

// The same in a forked child process (results come back through a pipe), so a
// process that has not elaborated a model itself may run any number of
// simulations one after the other. Errors are rethrown with the child's message.
std::vector<LayerResult> simulate_in_child(const std::vector<LayerJob>& jobs,
                                           const ArchConfig& arch, const SimOptions& options = {});

nlohmann::json stats_to_json(const LayerStats& s);
LayerStats stats_from_json(const nlohmann::json& j);  // the inverse of stats_to_json

}  // namespace pcnn
