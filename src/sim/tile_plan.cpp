#include "pcnn/sim/tile_plan.hpp"

#include <algorithm>

#include "pcnn/core/error.hpp"
#include "pcnn/sim/layer_lowering.hpp"

namespace pcnn {

int TilePlan::group_channels(int g, int C) const {
  return std::min(channels_per_group, C - g * channels_per_group);
}

int TilePlan::chunk_end_group(int chunk) const {
  return std::min(groups, (chunk + 1) * groups_per_chunk);
}

namespace {

BandPlan band_for_rows(const ConvGeometry& g, int out_begin, int out_end) {
  BandPlan b;
  b.out_row_begin = out_begin;
  b.out_row_end = out_end;
  const int first = out_begin * g.stride_h - g.pad_top;
  const int last = (out_end - 1) * g.stride_h - g.pad_top + g.dilation_h * (g.kernel_h - 1);
  b.in_row_begin = std::clamp(first, 0, g.in_h);
  b.in_row_end = std::clamp(last + 1, 0, g.in_h);
  if (b.in_row_end < b.in_row_begin) b.in_row_end = b.in_row_begin;
  return b;
}

std::uint64_t band_input_bytes(const ConvGeometry& g, const BandPlan& b) {
  return static_cast<std::uint64_t>(b.in_row_end - b.in_row_begin) * g.in_w * g.in_channels;
}

std::uint64_t band_output_bytes(const ConvGeometry& g, const BandPlan& b) {
  return static_cast<std::uint64_t>(b.out_row_end - b.out_row_begin) * g.out_w() *
         g.out_channels;
}

}  // namespace

std::string accelerator_unsupported_reason(const SpmLayer& layer) {
  if (layer.geom.group != 1) return "grouped convolution is not supported by the accelerator";
  if (layer.geom.kernel_size() > kMaxKernelPositions)
    return "kernels with more than " + std::to_string(kMaxKernelPositions) +
           " positions are not supported by the accelerator";
  return "";
}

TilePlan make_tile_plan(const SpmLayer& layer, const ArchConfig& arch,
                        const std::string& arch_where) {
  const ConvGeometry& g = layer.geom;
  const std::string lw = "layer '" + layer.name + "'";
  const std::string unsupported = accelerator_unsupported_reason(layer);
  if (!unsupported.empty()) throw Error(lw, unsupported);
  if (g.out_h() <= 0 || g.out_w() <= 0) throw Error(lw, "kernel larger than the padded input");

  TilePlan p;
  p.kernel_size = g.kernel_size();
  if (layer.n > arch.kernel_register_words)
    throw Error(arch_where, "kernel_register_words: smaller than one kernel of " + lw);
  p.channels_per_group = std::max(1, arch.kernel_register_words / layer.n);
  p.groups = (g.in_channels + p.channels_per_group - 1) / p.channels_per_group;
  p.tiles = (g.out_channels + arch.pe_count - 1) / arch.pe_count;
  p.index_bits = layer.pattern_pruned ? layer.index_bits() : 0;
  const int buffers = arch.double_buffering ? 2 : 1;
  p.weight_buffers = buffers;
  p.data_buffers = buffers;

  // Weight chunks: as many groups as fit in one buffer of both SRAMs.
  p.weight_group_bytes = static_cast<std::uint64_t>(arch.pe_count) * arch.kernel_register_words;
  p.pattern_group_bytes =
      (static_cast<std::uint64_t>(arch.pe_count) * p.channels_per_group * p.index_bits + 7) / 8;
  const std::uint64_t wbudget = static_cast<std::uint64_t>(arch.weight_sram.size_bytes) / buffers;
  const std::uint64_t pbudget = static_cast<std::uint64_t>(arch.pattern_sram.size_bytes) / buffers;
  if (p.weight_group_bytes > wbudget)
    throw Error(arch_where, "weight_sram.size_bytes: too small for one tile of " + lw + " (needs " +
                                std::to_string(p.weight_group_bytes * buffers) + " bytes)");
  if (p.pattern_group_bytes > pbudget)
    throw Error(arch_where, "pattern_sram.size_bytes: too small for one tile of " + lw +
                                " (needs " + std::to_string(p.pattern_group_bytes * buffers) +
                                " bytes)");
  std::uint64_t per_chunk = wbudget / p.weight_group_bytes;
  if (p.pattern_group_bytes > 0) per_chunk = std::min(per_chunk, pbudget / p.pattern_group_bytes);
  p.groups_per_chunk = static_cast<int>(std::min<std::uint64_t>(per_chunk, p.groups));
  p.chunks_per_tile = (p.groups + p.groups_per_chunk - 1) / p.groups_per_chunk;
  p.weight_buffer_bytes = p.weight_group_bytes * p.groups_per_chunk;
  p.pattern_buffer_bytes = p.pattern_group_bytes * p.groups_per_chunk;

  // Bands: the most output rows whose positions fit the partial sums and whose
  // input and output fit the Data SRAM buffers.
  const int OH = g.out_h(), OW = g.out_w();
  if (OW > arch.psum_entries_per_pe)
    throw Error(arch_where, "psum_entries_per_pe: smaller than one output row of " + lw + " (" +
                                std::to_string(OW) + " positions)");
  const std::uint64_t dbudget = static_cast<std::uint64_t>(arch.data_sram.size_bytes) / buffers;
  auto fits = [&](int rows) {
    if (static_cast<std::int64_t>(rows) * OW > arch.psum_entries_per_pe) return false;
    // The worst band of this height (an interior one) decides.
    std::uint64_t worst = 0;
    for (int b = 0; b < OH; b += rows) {
      const BandPlan band = band_for_rows(g, b, std::min(OH, b + rows));
      worst = std::max(worst, band_input_bytes(g, band) + band_output_bytes(g, band));
    }
    return worst <= dbudget;
  };
  if (!fits(1)) {
    const BandPlan one = band_for_rows(g, OH / 2, OH / 2 + 1);
    throw Error(arch_where, "data_sram.size_bytes: too small for one tile of " + lw + " (needs " +
                                std::to_string((band_input_bytes(g, one) + band_output_bytes(g, one)) *
                                               buffers) +
                                " bytes)");
  }
  int rows = 1;
  while (rows < OH && fits(rows + 1)) ++rows;
  for (int b = 0; b < OH; b += rows) {
    p.bands.push_back(band_for_rows(g, b, std::min(OH, b + rows)));
    p.input_buffer_bytes = std::max(p.input_buffer_bytes, band_input_bytes(g, p.bands.back()));
    p.output_buffer_bytes = std::max(p.output_buffer_bytes, band_output_bytes(g, p.bands.back()));
  }
  return p;
}

}  // namespace pcnn
