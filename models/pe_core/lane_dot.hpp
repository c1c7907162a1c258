#pragma once
// The arithmetic of a MAC-lane step in a form the compiler vectorises: every
// PE's weights of the group laid out at their window positions as 16-bit
// values (zero where the PE has no weight), padded to a multiple of
// kLaneDotAlign, and the window widened the same way. A step's partial sums are
// then one dot product per PE over contiguous arrays (pmaddwd on x86-64, 8 or
// 16 products per instruction), and its effectual MACs one weighted count over
// the window. Integer sums are exact, so this equals lane-by-lane accumulation
// of the pointer streams (tests/test_pe_core.cpp compares both). Plain C++.
#include <cstdint>

namespace pcnn {

// Positions of a dot row are padded to a multiple of this (zeros), so the
// vector loops need no remainder.
constexpr int kLaneDotAlign = 16;
inline int lane_dot_span(int positions) {
  return (positions + kLaneDotAlign - 1) / kLaneDotAlign * kLaneDotAlign;
}

// sums[r] = sum over i < span of w[r * span + i] * x[i], for r < rows; span a
// multiple of kLaneDotAlign.
void lane_dot_rows(const std::int16_t* w, int rows, int span, const std::int16_t* x,
                   std::int32_t* sums);

// The same sums by a plain loop, one product at a time (the reference of the tests).
void lane_dot_rows_scalar(const std::int16_t* w, int rows, int span, const std::int16_t* x,
                          std::int32_t* sums);

// sum over i < span of weights_at[i] for the positions where x[i] != 0: with
// weights_at[i] the number of PEs holding a non-zero weight at position i
// (at most pe_count, 4096), the effectual MACs (both operands non-zero) of a
// step. span a multiple of kLaneDotAlign.
std::uint64_t lane_effectual(const std::int16_t* weights_at, const std::int16_t* x, int span);

// Window values widened to 16 bits; x[i] = 0 for positions..span.
void lane_widen(const std::int8_t* window, int positions, int span, std::int16_t* x);

}  // namespace pcnn
