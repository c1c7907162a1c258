#pragma once
// Sparsity patterns of one kernel and the paper's pattern distillation
// (Algorithm 1) and projection. A pattern is a K-bit mask, bit p set when
// kernel position p (row-major, p = r * kw + c) keeps its weight.
// Tie-breaks are fixed so that the same weights always give the same result;
// see docs/pruning.md.
#include <cstdint>
#include <vector>

namespace pcnn {

using PatternMask = std::uint16_t;

// C(k, r) for small k (exact in 64 bits for k <= 60).
std::int64_t binomial(int k, int r);

// The candidate set F_n: every K-bit mask with exactly n ones, ascending by
// mask value. K in 1..16, n in 0..K.
std::vector<PatternMask> candidate_patterns(int K, int n);

// Mask of the n largest |w| among the K weights of one kernel. Equal
// magnitudes: the lower position wins (is kept first).
PatternMask nearest_pattern(const float* w, int K, int n);

struct PatternCount {
  PatternMask mask = 0;
  std::int64_t count = 0;
};

// Histogram of nearest patterns over `kernels` consecutive kernels of K
// weights each: one entry per mask of F_n that occurs, sorted by descending
// count, equal counts by ascending mask.
std::vector<PatternCount> count_nearest_patterns(const float* weights, std::int64_t kernels, int K,
                                                 int n);

// Algorithm 1: the V most frequent nearest patterns. When fewer than V
// distinct patterns occur, the remaining slots are filled from F_n in
// ascending mask order (count 0) so that the table always holds exactly V.
// The result is ordered like count_nearest_patterns(); its position is the
// SPM index.
std::vector<PatternCount> distill_patterns(const float* weights, std::int64_t kernels, int K, int n,
                                           int V);

// The selection step of Algorithm 1 on a histogram from count_nearest_patterns().
std::vector<PatternCount> select_patterns(std::vector<PatternCount> counts, int K, int n, int V);

// Energy kept by a mask: sum of w[p]^2 over its set bits, summed in ascending
// position order in double precision.
double kept_energy(const float* w, int K, PatternMask mask);

// Projection onto a pattern set: the index of the pattern keeping the most
// energy (= least L2 error). Equal energy: the lower index wins.
int project_kernel(const float* w, int K, const std::vector<PatternMask>& patterns);

}  // namespace pcnn
