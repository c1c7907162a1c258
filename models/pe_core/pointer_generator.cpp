#include "models/pe_core/pointer_generator.hpp"

#include <algorithm>

#include "models/pe_core/lane_dot.hpp"

namespace pcnn {

namespace {

// Population count without relying on a POPCNT instruction in the build.
inline int popcount64(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
}

// Packs cg K-bit masks at bit c*K of `bits` (words_ words, cleared first).
inline void pack_masks(const std::uint16_t* masks, int cg, int K, std::uint64_t* bits, int words) {
  std::fill(bits, bits + words, 0);
  for (int c = 0; c < cg; ++c) {
    const int at = c * K, w = at >> 6, off = at & 63;
    bits[w] |= static_cast<std::uint64_t>(masks[c]) << off;
    if (off + K > 64) bits[w + 1] |= static_cast<std::uint64_t>(masks[c]) >> (64 - off);
  }
}

}  // namespace

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

void PointerGenerator::start_layer(const PeLayer& L) {
  words_ = (L.kpr * L.K + 63) / 64;
  placement_.start_layer(*L.pac);
  for (int set = 0; set < 2; ++set) {
    group_[set].resize(L.pe_count, L.plan->channels_per_group * L.n);
    wbits_[set].assign(static_cast<std::size_t>(L.pe_count) * words_, 0);
  }
  abits_.assign(static_cast<std::size_t>(words_), 0);
  masks_.assign(static_cast<std::size_t>(L.kpr), 0);
}

void PointerGenerator::load_group(const PeLayer& L, int q, const KernelRegister& kreg, bool count,
                                  bool pointers) {
  PointerStream& group = group_[q & 1];
  const int pes = L.active_pes(L.pass_tile(q));
  const int cg = L.group_channels(L.pass_group(q));
  if (count) sparsity_io.count(static_cast<std::uint64_t>(pes) * cg);
  // Every activation taken as non-zero: each PE's MACs are its weights in mask
  // order (walk_pointers with an all-ones activation mask). Eight PEs' rows at
  // a time are placed whole by table, counted per position and stored as
  // their columns of the layout, so the layout needs no clearing first.
  group.positions = cg * L.K;
  group.span = lane_dot_span(group.positions);
  group.cols = lane_columns(pes);
  group.pointers = pointers;
  group.dense.resize(static_cast<std::size_t>(group.span) * group.cols);
  group.weights_at.assign(static_cast<std::size_t>(group.span), 0);
  rows_.resize(static_cast<std::size_t>(kLaneColumns) * group.span);
  std::int16_t* at = group.weights_at.data();
  for (int col0 = 0; col0 < group.cols; col0 += kLaneColumns) {
    for (int r = 0; r < kLaneColumns; ++r) {
      const int pe = col0 + r;
      std::int16_t* row = &rows_[static_cast<std::size_t>(r) * group.span];
      if (pe >= pes) {  // a padding column
        std::fill(row, row + group.span, std::int16_t{0});
        continue;
      }
      group.count[pe] = static_cast<std::uint16_t>(
          placement_.place_row(kreg.row(q, pe), L.n, kreg.indices(q, pe), cg, row, group.span));
      for (int i = 0; i < group.span; ++i) at[i] = static_cast<std::int16_t>(at[i] + (row[i] != 0));
      if (pointers) stream_pointers(L, q, pe, cg, kreg, group);
    }
    lane_store_columns(rows_.data(), group.span, group.dense.data(), group.cols, col0);
  }
  std::fill(group.count.begin() + pes, group.count.end(), std::uint16_t{0});
  if (L.mode == ActMode::off) return;
  for (int pe = 0; pe < pes; ++pe) {
    for (int c = 0; c < cg; ++c) masks_[c] = kreg.weight_mask(q, pe, c);
    pack_masks(masks_.data(), cg, L.K, &wbits_[q & 1][static_cast<std::size_t>(pe) * words_],
               words_);
  }
}

// The pointers and operands of PE pe's stream in the order the lanes issue
// them (trace only).
void PointerGenerator::stream_pointers(const PeLayer& L, int q, int pe, int cg,
                                       const KernelRegister& kreg, PointerStream& group) {
  const std::size_t at = static_cast<std::size_t>(pe) * group.stride;
  const std::int8_t* reg = kreg.row(q, pe);
  int slot = 0;
  for (int c = 0; c < cg; ++c) {
    int rank = 0;
    for (std::uint32_t m = kreg.weight_mask(q, pe, c); m != 0; m &= m - 1, ++rank, ++slot) {
      group.weight[at + slot] = static_cast<std::uint16_t>(c * L.n + rank);
      group.act[at + slot] = static_cast<std::uint16_t>(c * L.K + __builtin_ctz(m));
      group.wval[at + slot] = reg[c * L.n + rank];
    }
  }
}

int PointerGenerator::step_counts(const PeLayer& L, int q, const std::uint16_t* act_masks,
                                  std::uint16_t* counts) {
  const int pes = L.active_pes(L.pass_tile(q));
  const int cg = L.group_channels(L.pass_group(q));
  sparsity_io.count(static_cast<std::uint64_t>(pes) * cg);
  pack_masks(act_masks, cg, L.K, abits_.data(), words_);
  int longest = 0;
  for (int pe = 0; pe < pes; ++pe) {
    const std::uint64_t* w = &wbits_[q & 1][static_cast<std::size_t>(pe) * words_];
    int n = 0;
    for (int i = 0; i < words_; ++i) n += popcount64(w[i] & abits_[i]);
    counts[pe] = static_cast<std::uint16_t>(n);
    longest = std::max(longest, n);
  }
  std::fill(counts + pes, counts + L.pe_count, std::uint16_t{0});
  return longest;
}

void PointerGenerator::build(const PeLayer& L, int q, const KernelRegister& kreg,
                             const std::uint16_t* act_masks, PointerStream& s) {
  make_stream(L, q, kreg, act_masks, s, true);
}

void PointerGenerator::make_stream(const PeLayer& L, int q, const KernelRegister& kreg,
                                   const std::uint16_t* act_masks, PointerStream& s, bool count) {
  const int pes = L.active_pes(L.pass_tile(q));
  const int cg = L.group_channels(L.pass_group(q));
  if (count) sparsity_io.count(static_cast<std::uint64_t>(pes) * cg);
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
    const std::int8_t* reg = kreg.row(q, pe);
    int count = 0;
    for (int c = 0; c < cg; ++c) {
      const int e = walk_pointers(kreg.weight_mask(q, pe, c), act_masks[c], apos, wptr);
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
