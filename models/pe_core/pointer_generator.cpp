#include "models/pe_core/pointer_generator.hpp"

#include <algorithm>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "models/pe_core/lane_dot.hpp"

namespace pcnn {

namespace {

// The POPCNT instruction is not in the baseline x86-64 build; a clone that
// uses it is chosen at load time where the CPU has it.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define PCNN_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define PCNN_POPCNT_CLONES
#endif

// counts[pe] = the set bits of PE pe's packed weight masks AND the packed
// activation masks; returns the most of any PE.
PCNN_POPCNT_CLONES
int issued_counts(const std::uint64_t* wbits, int pes, int words, const std::uint64_t* abits,
                  std::uint16_t* counts) {
  int longest = 0;
  for (int pe = 0; pe < pes; ++pe) {
    const std::uint64_t* w = wbits + static_cast<std::size_t>(pe) * words;
    int n = 0;
    for (int i = 0; i < words; ++i) n += __builtin_popcountll(w[i] & abits[i]);
    counts[pe] = static_cast<std::uint16_t>(n);
    longest = std::max(longest, n);
  }
  return longest;
}

// The window's activation masks packed as pack_masks() packs them: bit c*K + p
// is window[c*K + p] != 0, so the packing is one bit per window byte (16 bytes
// per compare with SSE2); `words` words, the bits beyond `positions` zero.
void pack_nonzero(const std::int8_t* window, int positions, std::uint64_t* bits, int words) {
  std::fill(bits, bits + words, 0);
  int i = 0;
#if defined(__GNUC__) && defined(__x86_64__)
  for (; i + 16 <= positions; i += 16) {  // 16 bits never straddle a word
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(window + i));
    const unsigned zero =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())));
    bits[i >> 6] |= static_cast<std::uint64_t>(~zero & 0xffffu) << (i & 63);
  }
#endif
  for (; i < positions; ++i) bits[i >> 6] |= static_cast<std::uint64_t>(window[i] != 0) << (i & 63);
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

int PointerGenerator::step_counts(const PeLayer& L, int q, const std::int8_t* window,
                                  std::uint16_t* counts) {
  const int pes = L.active_pes(L.pass_tile(q));
  const int cg = L.group_channels(L.pass_group(q));
  sparsity_io.count(static_cast<std::uint64_t>(pes) * cg);
  pack_nonzero(window, cg * L.K, abits_.data(), words_);
  const int longest = issued_counts(wbits_[q & 1].data(), pes, words_, abits_.data(), counts);
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
