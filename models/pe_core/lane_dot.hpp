#pragma once
// The arithmetic of a MAC-lane step in a form that vectorises: the group's
// weights of every PE are laid out at their window positions as 16-bit values
// (zero where the PE has no weight), position pair by position pair: pair j
// (positions 2j and 2j + 1) holds one 32-bit pair per PE column, so that one
// pmaddwd multiplies eight PEs' pair by the window's two activations and adds
// the two products. A step's partial sums are then, for every pair with a
// non-zero activation, one multiply-add per eight PEs into accumulators that
// stay in registers; pairs whose activations are both zero are skipped (their
// products are zero). Its effectual MACs are one weighted count over the
// window. Integer sums are exact, so this equals lane-by-lane accumulation of
// the pointer streams (tests/test_pe_core.cpp compares both). Plain C++ with
// AVX2 and AVX-512 VNNI versions chosen at run time where the CPU has them.
#include <cstdint>
#include <vector>

namespace pcnn {

// Positions of a layout are padded to a multiple of this (zeros).
constexpr int kLaneDotAlign = 16;
inline int lane_dot_span(int positions) {
  return (positions + kLaneDotAlign - 1) / kLaneDotAlign * kLaneDotAlign;
}
// PE columns of a layout are padded to a multiple of this (zero weights).
constexpr int kLaneColumns = 8;
inline int lane_columns(int pes) { return (pes + kLaneColumns - 1) / kLaneColumns * kLaneColumns; }

// Stores kLaneColumns rows of weights in position order (rows[r * span + i],
// span a multiple of kLaneDotAlign) as the layout's columns col0 ..
// col0 + kLaneColumns - 1: layout[(j * cols + col0 + r) * 2 + k] =
// rows[r * span + 2j + k]. The scalar version is the reference of the tests.
void lane_store_columns(const std::int16_t* rows, int span, std::int16_t* layout, int cols,
                        int col0);
void lane_store_columns_scalar(const std::int16_t* rows, int span, std::int16_t* layout, int cols,
                               int col0);

// A pair of window positions with a non-zero activation: its index j
// (positions 2j, 2j + 1) and the two activations as pmaddwd takes them,
// x[2j] in the low 16 bits and x[2j + 1] in the high 16 bits.
struct LanePair {
  std::int32_t j;
  std::uint32_t x;
};

// The pairs of window[0 .. positions) (positions beyond are zero) with a
// non-zero activation, in order; returns their count, at most
// (positions + 1) / 2.
int lane_pairs(const std::int8_t* window, int positions, LanePair* pairs);

// sums[col] = sum over the `count` pairs of w[(j*cols + col)*2] * x[2j] +
// w[(j*cols + col)*2 + 1] * x[2j + 1], for col < cols; cols a multiple of
// kLaneColumns.
void lane_dot_pairs(const std::int16_t* w, int cols, const LanePair* pairs, int count,
                    std::int32_t* sums);
// The versions of lane_dot_pairs this build and CPU can run, the one it
// uses first; lane_dot_pairs_on runs a given one (the tests check each).
enum class LaneDotVersion { avx512_vnni, avx2, plain };
std::vector<LaneDotVersion> lane_dot_versions();
void lane_dot_pairs_on(LaneDotVersion version, const std::int16_t* w, int cols,
                       const LanePair* pairs, int count, std::int32_t* sums);
// The same sums by a plain loop, one product at a time (the reference of the tests).
void lane_dot_pairs_scalar(const std::int16_t* w, int cols, const LanePair* pairs, int count,
                           std::int32_t* sums);

// sum over i < positions of weights_at[i] for the positions where window[i]
// != 0: with weights_at[i] the number of PEs holding a non-zero weight at
// position i (at most pe_count, 4096), the effectual MACs (both operands
// non-zero) of a step.
std::uint64_t lane_effectual(const std::int16_t* weights_at, const std::int8_t* window,
                             int positions);

}  // namespace pcnn
