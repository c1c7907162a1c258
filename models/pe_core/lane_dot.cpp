#include "models/pe_core/lane_dot.hpp"

namespace pcnn {

// The Release build targets baseline x86-64 (SSE2); the hot loops also get an
// AVX2 version chosen at load time where the CPU has it. Results are the same
// integers either way.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define PCNN_LANE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PCNN_LANE_CLONES
#endif

PCNN_LANE_CLONES
void lane_dot_rows(const std::int16_t* w, int rows, int span, const std::int16_t* x,
                   std::int32_t* sums) {
  for (int r = 0; r < rows; ++r) {
    const std::int16_t* row = w + static_cast<std::ptrdiff_t>(r) * span;
    std::int32_t acc = 0;
    for (int i = 0; i < span; ++i) acc += static_cast<std::int32_t>(row[i]) * x[i];
    sums[r] = acc;
  }
}

void lane_dot_rows_scalar(const std::int16_t* w, int rows, int span, const std::int16_t* x,
                          std::int32_t* sums) {
  for (int r = 0; r < rows; ++r) {
    std::int64_t acc = 0;  // wide, so that the reference cannot wrap
    for (int i = 0; i < span; ++i)
      acc += static_cast<std::int64_t>(w[static_cast<std::ptrdiff_t>(r) * span + i]) * x[i];
    sums[r] = static_cast<std::int32_t>(acc);
  }
}

PCNN_LANE_CLONES
std::uint64_t lane_effectual(const std::int16_t* weights_at, const std::int16_t* x, int span) {
  // Written as a product with 0 or 1 so that it vectorises without branches.
  std::int32_t n = 0;
  for (int i = 0; i < span; ++i)
    n += static_cast<std::int32_t>(weights_at[i]) * static_cast<std::int16_t>(x[i] != 0);
  return static_cast<std::uint64_t>(n);
}

void lane_widen(const std::int8_t* window, int positions, int span, std::int16_t* x) {
  for (int i = 0; i < positions; ++i) x[i] = window[i];
  for (int i = positions; i < span; ++i) x[i] = 0;
}

}  // namespace pcnn
