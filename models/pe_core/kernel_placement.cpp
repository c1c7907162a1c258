#include "models/pe_core/kernel_placement.hpp"

#include <algorithm>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PCNN_PLACEMENT_SSE41 1
#endif

namespace pcnn {

namespace {

#ifdef PCNN_PLACEMENT_SSE41
// Kernel c's 16 bytes from reg + c*n shuffled into position order (bytes
// whose control has bit 7 set become zero), widened to two 8-word stores at
// row + c*K. The stores spill zeros into the next kernel's positions, which it
// then overwrites, so only kernels whose 16 positions end inside the row go
// this way; the rest take the table loop.
__attribute__((target("ssse3,sse4.1"))) int place_sse41(const std::int8_t* reg, int n, int K,
                                                        const std::uint32_t* indices, int cg,
                                                        const std::uint8_t* shuffle,
                                                        const std::uint8_t* count,
                                                        std::int16_t* row, int span) {
  int placed = 0;
  int c = 0;
  for (; c < cg && c * K + 16 <= span; ++c) {
    const std::uint32_t v = indices[c];
    const __m128i words = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reg + c * n));
    const __m128i control = _mm_loadu_si128(reinterpret_cast<const __m128i*>(shuffle + v * 16));
    const __m128i kernel = _mm_shuffle_epi8(words, control);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c * K), _mm_cvtepi8_epi16(kernel));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c * K + 8),
                     _mm_cvtepi8_epi16(_mm_srli_si128(kernel, 8)));
    placed += count[v];
  }
  for (; c < cg; ++c) {
    const std::uint8_t* control = shuffle + indices[c] * 16;
    for (int p = 0; p < K; ++p) row[c * K + p] = (control[p] & 0x80) ? 0 : reg[c * n + control[p]];
    placed += count[indices[c]];
  }
  std::fill(row + cg * K, row + span, std::int16_t{0});
  return placed;
}
#endif

}  // namespace

void KernelPlacement::start_layer(const PatternTable& table) {
  K_ = table.kernel_size;
  const std::size_t entries = table.dense() ? 1 : table.masks.size();
  count_.assign(entries, 0);
  positions_.assign(entries * 16, 0);
  shuffle_.assign(entries * 16, 0x80);
  for (std::size_t v = 0; v < entries; ++v) {
    const std::uint32_t mask = table.decode(static_cast<std::uint32_t>(v));
    int rank = 0;
    for (int p = 0; p < K_ && p < 16; ++p) {
      if (!((mask >> p) & 1u)) continue;
      positions_[v * 16 + rank] = static_cast<std::uint8_t>(p);
      shuffle_[v * 16 + p] = static_cast<std::uint8_t>(rank);
      ++rank;
    }
    count_[v] = static_cast<std::uint8_t>(rank);
  }
#ifdef PCNN_PLACEMENT_SSE41
  vector_ = __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
#endif
}

int KernelPlacement::place_row(const std::int8_t* reg, int n, const std::uint32_t* indices, int cg,
                               std::int16_t* row, int span) const {
#ifdef PCNN_PLACEMENT_SSE41
  if (vector_)
    return place_sse41(reg, n, K_, indices, cg, shuffle_.data(), count_.data(), row, span);
#endif
  return place_row_scalar(reg, n, indices, cg, row, span);
}

int KernelPlacement::place_row_scalar(const std::int8_t* reg, int n, const std::uint32_t* indices,
                                      int cg, std::int16_t* row, int span) const {
  std::fill(row, row + span, std::int16_t{0});
  int placed = 0;
  for (int c = 0; c < cg; ++c) {
    const std::uint32_t v = indices[c];
    const std::uint8_t* at = &positions_[v * 16];
    std::int16_t* out = row + c * K_;
    const std::int8_t* words = reg + c * n;
    const int bits = count_[v];
    for (int r = 0; r < bits; ++r) out[at[r]] = words[r];
    placed += bits;
  }
  return placed;
}

}  // namespace pcnn
