#include "models/pe_core/partial_sums.hpp"

#include <algorithm>

#include "models/pe_group/pe_logic.hpp"

namespace pcnn {

void PartialSums::start_layer(const PeLayer& L) {
  stride_ = 0;
  for (int b = 0; b < static_cast<int>(L.plan->bands.size()); ++b)
    stride_ = std::max(stride_, L.band_positions(b));
  sums_.assign(static_cast<std::size_t>(pe_count_) * stride_, 0);
}

void PartialSums::clear() { std::fill(sums_.begin(), sums_.end(), 0); }

std::uint64_t PartialSums::write_back(const PeLayer& L, int q, PeCorePorts& ports,
                                      std::uint64_t* address) {
  const SpmLayer& layer = *L.layer;
  const int band = L.pass_band(q);
  const int tile = L.pass_tile(q);
  const int pes = L.active_pes(tile);
  const int positions = L.band_positions(band);
  const std::uint64_t base = L.plan->output_buffer_address(band);
  segments_.clear();
  out_.resize(static_cast<std::size_t>(positions) * pes);
  for (int p = 0; p < positions; ++p) {
    for (int pe = 0; pe < pes; ++pe) {
      const int m = tile * pe_count_ + pe;
      const std::int32_t acc = pe_add_bias(entry(pe, p), layer.bias[m]);
      out_[static_cast<std::size_t>(p) * pes + pe] = static_cast<std::uint8_t>(
          pe_requantize(acc, layer.requant[m].multiplier, layer.requant[m].shift, layer.relu));
    }
    // Output band in HWC order: [row - first row][x][M].
    segments_.push_back({base + static_cast<std::uint64_t>(p) * L.M + tile * pe_count_,
                         static_cast<std::uint32_t>(pes)});
  }
  const std::uint64_t n = static_cast<std::uint64_t>(positions) * pes;
  reads_ += n;
  requantisations_ += n;
  *address = base;
  return std::max<std::uint64_t>(1, ports.scatter_data_sram(segments_, out_.data(), out_.size()));
}

}  // namespace pcnn
