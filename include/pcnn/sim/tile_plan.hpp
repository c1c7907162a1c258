#pragma once
// How one layer is cut into the pieces the accelerator moves and computes:
// output-row bands (partial sums and Data SRAM must hold a band), output-channel
// tiles (one output channel per PE), input-channel groups (one kernel-register
// row per PE) and weight chunks (the groups one DMA move brings into Weight and
// Pattern SRAM). Plain C++; shared by the host controller and the PE group.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"

namespace pcnn {

struct BandPlan {
  int out_row_begin = 0, out_row_end = 0;  // output rows [begin, end)
  int in_row_begin = 0, in_row_end = 0;    // input rows it reads, clipped to the tensor
};

struct TilePlan {
  int kernel_size = kPatternKernelPositions;  // K
  int channels_per_group = 6;  // kernels per kernel-register row (kpr)
  int groups = 0;              // ceil(C / kpr)
  int tiles = 0;               // ceil(M / pe_count)
  int index_bits = 0;          // SPM index width; 0 for dense or V == 1
  int groups_per_chunk = 1;
  int chunks_per_tile = 0;
  std::vector<BandPlan> bands;

  // SRAM layouts (bytes).
  std::uint64_t weight_group_bytes = 0;   // pe_count rows of kernel_register_words
  std::uint64_t pattern_group_bytes = 0;  // pe_count * kpr indices, packed
  int weight_buffers = 1;                 // 2 with double buffering
  std::uint64_t weight_buffer_bytes = 0;
  std::uint64_t pattern_buffer_bytes = 0;
  int data_buffers = 1;
  std::uint64_t input_buffer_bytes = 0;   // largest band input
  std::uint64_t output_buffer_bytes = 0;  // largest band output

  int group_channels(int g, int C) const;  // channels in group g
  int chunk_first_group(int chunk) const { return chunk * groups_per_chunk; }
  int chunk_end_group(int chunk) const;    // one past the last group
  std::uint64_t input_buffer_address(int band) const {
    return static_cast<std::uint64_t>(band % data_buffers) * input_buffer_bytes;
  }
  std::uint64_t output_buffer_address(int band) const {
    return data_buffers * input_buffer_bytes +
           static_cast<std::uint64_t>(band % data_buffers) * output_buffer_bytes;
  }
  // Sequence number of a weight chunk over the whole layer.
  std::int64_t chunk_sequence(int band, int tile, int chunk) const {
    return (static_cast<std::int64_t>(band) * tiles + tile) * chunks_per_tile + chunk;
  }
};

// Why the datapath cannot run this layer as it is (grouped convolution, kernels
// beyond kMaxKernelPositions), or "" when it can. simulate() lowers such layers first
// (layer_lowering.hpp).
std::string accelerator_unsupported_reason(const SpmLayer& layer);

// Throws pcnn::Error("<arch_where>: <key>: ...") when the architecture cannot
// hold one tile of this layer, and Error("layer '<name>': ...") for layers the
// datapath cannot run (grouped convolution, kernels beyond kMaxKernelPositions).
TilePlan make_tile_plan(const SpmLayer& layer, const ArchConfig& arch,
                        const std::string& arch_where = "architecture");

}  // namespace pcnn
