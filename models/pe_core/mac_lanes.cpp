#include "models/pe_core/mac_lanes.hpp"

#include <algorithm>

namespace pcnn {

int MacLanes::step_cycles(const PeLayer& L, int q, int longest) const {
  if (L.mode == ActMode::skip) return std::max(1, (longest + lanes_ - 1) / lanes_);
  const int work = L.group_channels(L.pass_group(q)) * L.n;
  return (work + lanes_ - 1) / lanes_;
}

namespace {

// One PE's products of a step: the sum and how many are non-zero.
struct PeSum {
  std::int32_t acc = 0;
  int effectual = 0;
};

// Following the pointers: slot i multiplies register word wv[i] with window[ap[i]].
inline PeSum sum_by_pointers(const std::int8_t* wv, const std::uint16_t* ap, int count,
                             const std::int8_t* window) {
  PeSum r;
  for (int i = 0; i < count; ++i) {
    const std::int32_t product = static_cast<std::int32_t>(wv[i]) * window[ap[i]];
    r.acc += product;
    r.effectual += product != 0;  // an int8 x int8 product is zero only if an operand is
  }
  return r;
}

// The same products with the weights scattered to their window positions (zero
// elsewhere): a contiguous dot product the compiler vectorises.
inline PeSum sum_dense(const std::int8_t* w, int span, const std::int8_t* window) {
  std::int32_t acc = 0, effectual = 0;
  for (int i = 0; i < span; ++i) {
    const std::int32_t product = static_cast<std::int32_t>(w[i]) * window[i];
    acc += product;
    effectual += product != 0;
  }
  return {acc, effectual};
}

}  // namespace

void MacLanes::execute(const PointerStream& s, const std::uint16_t* step_issued,
                       const std::int8_t* window, int pes, int pos, bool first_group,
                       PartialSums& psums) {
  std::uint64_t issued = 0, effectual = 0, accumulations = 0;
  for (int pe = 0; pe < pes; ++pe) {
    const std::size_t at = static_cast<std::size_t>(pe) * s.stride;
    const PeSum r =
        s.dense_span > 0
            ? sum_dense(&s.dense[static_cast<std::size_t>(pe) * s.dense_span], s.dense_span, window)
            : sum_by_pointers(&s.wval[at], &s.act[at], s.count[pe], window);
    issued += step_issued[pe];
    effectual += static_cast<std::uint64_t>(r.effectual);
    accumulations += step_issued[pe] > 0;
    psums.entry(pe, pos) += r.acc;
  }
  issued_ += issued;
  effectual_ += effectual;
  if (first_group)
    psums.count_accumulate(0, static_cast<std::uint64_t>(pes));
  else
    psums.count_accumulate(accumulations, accumulations);
}

}  // namespace pcnn
