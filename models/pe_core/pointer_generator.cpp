#include "models/pe_core/pointer_generator.hpp"

#include <algorithm>

namespace pcnn {

void PointerStream::resize(int pe_count, int slots) {
  stride = slots;
  count.assign(pe_count, 0);
  const std::size_t size = static_cast<std::size_t>(pe_count) * slots;
  weight.assign(size, 0);
  act.assign(size, 0);
  wval.assign(size, 0);
}

int PointerStream::longest() const {
  int m = 0;
  for (std::uint16_t c : count) m = std::max<int>(m, c);
  return m;
}

void PointerGenerator::build(const PeLayer& L, int q, const KernelRegister& kreg,
                             const std::uint16_t* act_masks, PointerStream& s) {
  const int pes = L.active_pes(L.pass_tile(q));
  const int cg = L.group_channels(L.pass_group(q));
  std::uint8_t apos[kMaxKernelPositions], wptr[kMaxKernelPositions];
  const int P = static_cast<int>(s.count.size());
  for (int pe = 0; pe < P; ++pe) {
    if (pe >= pes) {
      s.count[pe] = 0;
      continue;
    }
    std::uint16_t* wout = &s.weight[static_cast<std::size_t>(pe) * s.stride];
    std::uint16_t* aout = &s.act[static_cast<std::size_t>(pe) * s.stride];
    std::int8_t* vout = &s.wval[static_cast<std::size_t>(pe) * s.stride];
    const std::int8_t* reg = kreg.row(pe);
    int count = 0;
    for (int c = 0; c < cg; ++c) {
      const int e = sparsity_io.pointers(kreg.weight_mask(pe, c), act_masks[c], L.K, apos, wptr);
      for (int j = 0; j < e; ++j) {
        wout[count] = static_cast<std::uint16_t>(c * L.n + wptr[j]);
        aout[count] = static_cast<std::uint16_t>(c * L.K + apos[j]);
        vout[count] = reg[wout[count]];
        ++count;
      }
    }
    s.count[pe] = static_cast<std::uint16_t>(count);
  }
}

}  // namespace pcnn
