#include "models/pe_core/mac_lanes.hpp"

#include <algorithm>

#include "models/pe_core/lane_dot.hpp"

namespace pcnn {

int MacLanes::step_cycles(const PeLayer& L, int q, int longest) const {
  if (L.mode == ActMode::skip) return std::max(1, (longest + lanes_ - 1) / lanes_);
  const int work = L.group_channels(L.pass_group(q)) * L.n;
  return (work + lanes_ - 1) / lanes_;
}

void MacLanes::execute(const PointerStream& s, const std::uint16_t* step_issued,
                       const std::int8_t* window, int pes, int pos, bool first_group,
                       PartialSums& psums) {
  pairs_.resize(static_cast<std::size_t>(s.span / 2));
  sums_.resize(static_cast<std::size_t>(s.cols));
  const int pairs = lane_pairs(window, s.positions, pairs_.data());
  lane_dot_pairs(s.dense.data(), s.cols, pairs_.data(), pairs, sums_.data());
  std::int32_t* entries = psums.position(pos);
  for (int pe = 0; pe < pes; ++pe) entries[pe] += sums_[pe];
  std::uint32_t issued = 0, accumulations = 0;
  for (int pe = 0; pe < pes; ++pe) {
    issued += step_issued[pe];
    accumulations += step_issued[pe] > 0;
  }
  issued_ += issued;
  effectual_ += lane_effectual(s.weights_at.data(), window, s.positions);
  if (first_group)
    psums.count_accumulate(0, static_cast<std::uint64_t>(pes));
  else
    psums.count_accumulate(accumulations, accumulations);
}

}  // namespace pcnn
