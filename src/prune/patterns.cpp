#include "pcnn/prune/patterns.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "pcnn/core/error.hpp"

namespace pcnn {

std::int64_t binomial(int k, int r) {
  if (r < 0 || r > k) return 0;
  r = std::min(r, k - r);
  std::int64_t c = 1;
  for (int i = 1; i <= r; ++i) c = c * (k - r + i) / i;  // exact: c * (k-r+i) divisible by i
  return c;
}

std::vector<PatternMask> candidate_patterns(int K, int n) {
  if (K < 1 || K > 16) throw Error("candidate_patterns", "kernel size outside 1..16");
  if (n < 0 || n > K) throw Error("candidate_patterns", "n outside 0..K");
  std::vector<PatternMask> out;
  out.reserve(static_cast<std::size_t>(binomial(K, n)));
  for (std::uint32_t m = 0; m < (1u << K); ++m)
    if (__builtin_popcount(m) == n) out.push_back(static_cast<PatternMask>(m));
  return out;
}

PatternMask nearest_pattern(const float* w, int K, int n) {
  // Position p is kept when fewer than n positions beat it; q beats p when
  // |w_q| > |w_p|, or |w_q| == |w_p| and q < p. This is a strict total order,
  // so exactly n positions are kept.
  float mag[16];
  for (int p = 0; p < K; ++p) mag[p] = std::fabs(w[p]);
  std::uint32_t mask = 0;
  for (int p = 0; p < K; ++p) {
    int beaten_by = 0;
    for (int q = 0; q < K; ++q)
      beaten_by += static_cast<int>((mag[q] > mag[p]) | ((mag[q] == mag[p]) & (q < p)));
    mask |= static_cast<std::uint32_t>(beaten_by < n) << p;
  }
  return static_cast<PatternMask>(mask);
}

std::vector<PatternCount> count_nearest_patterns(const float* weights, std::int64_t kernels, int K,
                                                 int n) {
  std::vector<std::int64_t> hist(std::size_t{1} << K, 0);
  for (std::int64_t k = 0; k < kernels; ++k) ++hist[nearest_pattern(weights + k * K, K, n)];
  std::vector<PatternCount> out;
  for (std::size_t m = 0; m < hist.size(); ++m)
    if (hist[m] > 0) out.push_back({static_cast<PatternMask>(m), hist[m]});
  std::stable_sort(out.begin(), out.end(), [](const PatternCount& a, const PatternCount& b) {
    return a.count > b.count;  // stable: equal counts stay in ascending mask order
  });
  return out;
}

std::vector<PatternCount> select_patterns(std::vector<PatternCount> counts, int K, int n, int V) {
  if (V < 1 || V > binomial(K, n)) throw Error("distill_patterns", "V outside 1..C(K, n)");
  if (static_cast<int>(counts.size()) > V) counts.resize(static_cast<std::size_t>(V));
  if (static_cast<int>(counts.size()) < V) {
    std::vector<bool> present(std::size_t{1} << K, false);
    for (const PatternCount& c : counts) present[c.mask] = true;
    for (PatternMask m : candidate_patterns(K, n)) {
      if (static_cast<int>(counts.size()) == V) break;
      if (!present[m]) counts.push_back({m, 0});
    }
  }
  return counts;
}

std::vector<PatternCount> distill_patterns(const float* weights, std::int64_t kernels, int K, int n,
                                           int V) {
  return select_patterns(count_nearest_patterns(weights, kernels, K, n), K, n, V);
}

double kept_energy(const float* w, int K, PatternMask mask) {
  double e = 0.0;
  for (int p = 0; p < K; ++p)
    if ((mask >> p) & 1u) e += static_cast<double>(w[p]) * static_cast<double>(w[p]);
  return e;
}

int project_kernel(const float* w, int K, const std::vector<PatternMask>& patterns) {
  double sq[16];
  for (int p = 0; p < K; ++p) sq[p] = static_cast<double>(w[p]) * static_cast<double>(w[p]);
  int best = 0;
  double best_energy = -1.0;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    // Same sum, in the same order, as kept_energy().
    double e = 0.0;
    for (std::uint32_t m = patterns[i]; m != 0; m &= m - 1) e += sq[__builtin_ctz(m)];
    if (e > best_energy) {  // strict: the lower index keeps an equal-energy tie
      best_energy = e;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace pcnn
