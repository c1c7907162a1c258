#include "models/pe_core/lane_dot.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define PCNN_LANE_AVX2 1
#endif

namespace pcnn {

namespace {

#ifdef PCNN_LANE_AVX2
// Columns col .. col + 8V - 1: V accumulators of eight PEs each, kept in
// registers over all pairs.
template <int V>
__attribute__((target("avx2"))) inline void dot_block(const std::int16_t* w, int cols,
                                                      const LanePair* pairs, int count,
                                                      std::int32_t* sums) {
  __m256i acc[V];
  for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_si256();
  for (int p = 0; p < count; ++p) {
    const __m256i x = _mm256_set1_epi32(static_cast<int>(pairs[p].x));
    const std::int16_t* row = w + static_cast<std::ptrdiff_t>(pairs[p].j) * cols * 2;
    for (int v = 0; v < V; ++v) {
      const __m256i pair = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16 * v));
      acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(pair, x));
    }
  }
  for (int v = 0; v < V; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + 8 * v), acc[v]);
}

__attribute__((target("avx2"))) void dot_pairs_avx2(const std::int16_t* w, int cols,
                                                    const LanePair* pairs, int count,
                                                    std::int32_t* sums) {
  int col = 0;
  for (; col + 64 <= cols; col += 64) dot_block<8>(w + 2 * col, cols, pairs, count, sums + col);
  for (; col < cols; col += 8) dot_block<1>(w + 2 * col, cols, pairs, count, sums + col);
}

// The same with AVX-512 VNNI: vpdpwssd multiplies, adds the pair and
// accumulates in one instruction.
template <int V>
__attribute__((target("avx2,avx512vl,avx512vnni"))) inline void dot_block_vnni(
    const std::int16_t* w, int cols, const LanePair* pairs, int count, std::int32_t* sums) {
  __m256i acc[V];
  for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_si256();
  for (int p = 0; p < count; ++p) {
    const __m256i x = _mm256_set1_epi32(static_cast<int>(pairs[p].x));
    const std::int16_t* row = w + static_cast<std::ptrdiff_t>(pairs[p].j) * cols * 2;
    for (int v = 0; v < V; ++v) {
      const __m256i pair = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16 * v));
      acc[v] = _mm256_dpwssd_epi32(acc[v], pair, x);
    }
  }
  for (int v = 0; v < V; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + 8 * v), acc[v]);
}

__attribute__((target("avx2,avx512vl,avx512vnni"))) void dot_pairs_vnni(
    const std::int16_t* w, int cols, const LanePair* pairs, int count, std::int32_t* sums) {
  int col = 0;
  for (; col + 64 <= cols; col += 64)
    dot_block_vnni<8>(w + 2 * col, cols, pairs, count, sums + col);
  for (; col < cols; col += 8) dot_block_vnni<1>(w + 2 * col, cols, pairs, count, sums + col);
}

// Eight rows of eight 32-bit pairs transposed (unpack by 32 and 64 bits,
// then the 128-bit halves exchanged) and stored as eight column runs.
__attribute__((target("avx2"))) void store_columns_avx2(const std::int16_t* rows, int span,
                                                        std::int16_t* layout, int cols, int col0) {
  const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(cols) * 2;
  for (int j0 = 0; j0 < span / 2; j0 += 8) {
    __m256i r[8];
    for (int k = 0; k < 8; ++k)
      r[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + k * span + 2 * j0));
    __m256i t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
      t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
      t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
      u[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
      u[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
      u[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
      u[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
    }
    std::int16_t* out = layout + (static_cast<std::ptrdiff_t>(j0) * cols + col0) * 2;
    for (int k = 0; k < 4; ++k) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k * step),
                          _mm256_permute2x128_si256(u[k], u[k + 4], 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (k + 4) * step),
                          _mm256_permute2x128_si256(u[k], u[k + 4], 0x31));
    }
  }
}

bool has_avx2() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  return yes;
}

bool has_vnni() {
  static const bool yes =
      (__builtin_cpu_init(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512vl") &&
                                 __builtin_cpu_supports("avx512vnni"));
  return yes;
}
#endif

}  // namespace

std::vector<LaneDotVersion> lane_dot_versions() {
  std::vector<LaneDotVersion> v;
#ifdef PCNN_LANE_AVX2
  if (has_vnni()) v.push_back(LaneDotVersion::avx512_vnni);
  if (has_avx2()) v.push_back(LaneDotVersion::avx2);
#endif
  v.push_back(LaneDotVersion::plain);
  return v;
}

void lane_dot_pairs_on(LaneDotVersion version, const std::int16_t* w, int cols,
                       const LanePair* pairs, int count, std::int32_t* sums) {
  switch (version) {
#ifdef PCNN_LANE_AVX2
    case LaneDotVersion::avx512_vnni:
      if (has_vnni()) return dot_pairs_vnni(w, cols, pairs, count, sums);
      break;
    case LaneDotVersion::avx2:
      if (has_avx2()) return dot_pairs_avx2(w, cols, pairs, count, sums);
      break;
#endif
    default:
      break;
  }
  lane_dot_pairs_scalar(w, cols, pairs, count, sums);
}

int lane_pairs(const std::int8_t* window, int positions, LanePair* pairs) {
  // Every pair is written, the count advances only past a non-zero one: no
  // branch on the (random) activations.
  int count = 0;
  const int whole = positions / 2;
  int j = 0;
#ifdef PCNN_LANE_AVX2
  // SSE2 (every x86-64): 16 activations sign-extended to 16 bits are eight
  // pairs as pmaddwd takes them; a compare gives which are non-zero.
  alignas(16) std::uint32_t x[8];
  for (; j + 8 <= whole; j += 8) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(window + 2 * j));
    const __m128i lo = _mm_srai_epi16(_mm_unpacklo_epi8(bytes, bytes), 8);
    const __m128i hi = _mm_srai_epi16(_mm_unpackhi_epi8(bytes, bytes), 8);
    _mm_store_si128(reinterpret_cast<__m128i*>(x), lo);
    _mm_store_si128(reinterpret_cast<__m128i*>(x + 4), hi);
    const __m128i zero = _mm_setzero_si128();
    const int zeros = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, zero))) |
                      _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, zero))) << 4;
    for (int k = 0; k < 8; ++k) {
      pairs[count] = {j + k, x[k]};
      count += !((zeros >> k) & 1);
    }
  }
#endif
  for (; j < whole; ++j) {
    const std::uint32_t x =
        static_cast<std::uint16_t>(window[2 * j]) |
        static_cast<std::uint32_t>(static_cast<std::uint16_t>(window[2 * j + 1])) << 16;
    pairs[count] = {j, x};
    count += x != 0;
  }
  if (positions % 2) {
    const std::uint32_t x = static_cast<std::uint16_t>(window[positions - 1]);
    pairs[count] = {whole, x};
    count += x != 0;
  }
  return count;
}

void lane_dot_pairs(const std::int16_t* w, int cols, const LanePair* pairs, int count,
                    std::int32_t* sums) {
  static const LaneDotVersion best = lane_dot_versions().front();
  lane_dot_pairs_on(best, w, cols, pairs, count, sums);
}

void lane_store_columns(const std::int16_t* rows, int span, std::int16_t* layout, int cols,
                        int col0) {
#ifdef PCNN_LANE_AVX2
  if (has_avx2()) return store_columns_avx2(rows, span, layout, cols, col0);
#endif
  lane_store_columns_scalar(rows, span, layout, cols, col0);
}

void lane_store_columns_scalar(const std::int16_t* rows, int span, std::int16_t* layout, int cols,
                               int col0) {
  for (int r = 0; r < kLaneColumns; ++r)
    for (int j = 0; j < span / 2; ++j)
      for (int k = 0; k < 2; ++k)
        layout[(static_cast<std::ptrdiff_t>(j) * cols + col0 + r) * 2 + k] =
            rows[r * span + 2 * j + k];
}

void lane_dot_pairs_scalar(const std::int16_t* w, int cols, const LanePair* pairs, int count,
                           std::int32_t* sums) {
  std::fill(sums, sums + cols, 0);
  for (int p = 0; p < count; ++p) {
    const std::int32_t x0 = static_cast<std::int16_t>(pairs[p].x & 0xffffu);
    const std::int32_t x1 = static_cast<std::int16_t>(pairs[p].x >> 16);
    const std::int16_t* row = w + static_cast<std::ptrdiff_t>(pairs[p].j) * cols * 2;
    for (int col = 0; col < cols; ++col) sums[col] += row[2 * col] * x0 + row[2 * col + 1] * x1;
  }
}

std::uint64_t lane_effectual(const std::int16_t* weights_at, const std::int8_t* window,
                             int positions) {
  // Written as a product with 0 or 1 so that it vectorises without branches.
  std::int32_t n = 0;
  for (int i = 0; i < positions; ++i)
    n += static_cast<std::int32_t>(weights_at[i]) * static_cast<std::int32_t>(window[i] != 0);
  return static_cast<std::uint64_t>(n);
}

}  // namespace pcnn
