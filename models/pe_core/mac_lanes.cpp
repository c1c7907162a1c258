#include "models/pe_core/mac_lanes.hpp"

#include <algorithm>

namespace pcnn {

int MacLanes::step_cycles(const PeLayer& L, int q, int longest) const {
  if (L.mode == ActMode::skip) return std::max(1, (longest + lanes_ - 1) / lanes_);
  const int work = L.group_channels(L.pass_group(q)) * L.n;
  return (work + lanes_ - 1) / lanes_;
}

void MacLanes::execute(const PointerStream& s, const std::uint16_t* step_issued,
                       const std::int8_t* window, int pes, int pos, bool first_group,
                       PartialSums& psums) {
  std::uint64_t issued = 0, effectual = 0, accumulations = 0;
  for (int pe = 0; pe < pes; ++pe) {
    const int count = s.count[pe];
    const std::int8_t* wv = &s.wval[static_cast<std::size_t>(pe) * s.stride];
    const std::uint16_t* ap = &s.act[static_cast<std::size_t>(pe) * s.stride];
    std::int32_t acc = 0;
    int eff = 0;
    for (int i = 0; i < count; ++i) {
      const std::int32_t product = static_cast<std::int32_t>(wv[i]) * window[ap[i]];
      acc += product;
      eff += product != 0;  // an int8 x int8 product is zero only if an operand is
    }
    issued += step_issued[pe];
    effectual += static_cast<std::uint64_t>(eff);
    accumulations += step_issued[pe] > 0;
    psums.entry(pe, pos) += acc;
  }
  issued_ += issued;
  effectual_ += effectual;
  if (first_group)
    psums.count_accumulate(0, static_cast<std::uint64_t>(pes));
  else
    psums.count_accumulate(accumulations, accumulations);
}

}  // namespace pcnn
