#include "models/pe_core/partial_sums.hpp"

#include <algorithm>

#include "models/pe_group/pe_logic.hpp"

namespace pcnn {

void PartialSums::start_layer(const PeLayer& L) {
  positions_ = 0;
  for (int b = 0; b < static_cast<int>(L.plan->bands.size()); ++b)
    positions_ = std::max(positions_, L.band_positions(b));
  sums_.assign(static_cast<std::size_t>(pe_count_) * positions_, 0);
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
  const int m0 = tile * pe_count_;
  for (int p = 0; p < positions; ++p) {
    const std::int32_t* sums = position(p);
    std::uint8_t* out = &out_[static_cast<std::size_t>(p) * pes];
    for (int pe = 0; pe < pes; ++pe) {
      const Requant& r = layer.requant[m0 + pe];
      const std::int32_t acc = pe_add_bias(sums[pe], layer.bias[m0 + pe]);
      out[pe] = static_cast<std::uint8_t>(pe_requantize(acc, r.multiplier, r.shift, layer.relu));
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
