// Candidate sets, nearest patterns, Algorithm 1 and projection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "pcnn/core/error.hpp"
#include "pcnn/prune/patterns.hpp"

using namespace pcnn;

namespace {
std::int64_t factorial_ratio(int k, int r) {  // C(k, r) by the factorial formula
  double v = 1;
  for (int i = 1; i <= k; ++i) v *= i;
  for (int i = 1; i <= r; ++i) v /= i;
  for (int i = 1; i <= k - r; ++i) v /= i;
  return static_cast<std::int64_t>(v + 0.5);
}
}  // namespace

TEST_CASE("F_n holds C(9, n) masks with n ones, ascending", "[prune]") {
  const std::int64_t expected[] = {1, 9, 36, 84, 126, 126, 84, 36, 9, 1};
  for (int n = 0; n <= 9; ++n) {
    const std::vector<PatternMask> f = candidate_patterns(9, n);
    CHECK(static_cast<std::int64_t>(f.size()) == expected[n]);
    CHECK(static_cast<std::int64_t>(f.size()) == factorial_ratio(9, n));
    CHECK(binomial(9, n) == expected[n]);
    CHECK(std::is_sorted(f.begin(), f.end()));
    CHECK(std::adjacent_find(f.begin(), f.end()) == f.end());
    for (PatternMask m : f) {
      CHECK(__builtin_popcount(m) == n);
      CHECK(m < 512);
    }
  }
  CHECK_THROWS_AS(candidate_patterns(9, 10), Error);
}

TEST_CASE("nearest pattern keeps the n largest magnitudes, lower position on ties", "[prune]") {
  const float w[9] = {0.1f, -0.9f, 0.3f, 0.0f, 0.5f, -0.2f, 0.05f, 0.7f, -0.3f};
  CHECK(nearest_pattern(w, 9, 1) == (1u << 1));
  CHECK(nearest_pattern(w, 9, 2) == ((1u << 1) | (1u << 7)));
  CHECK(nearest_pattern(w, 9, 3) == ((1u << 1) | (1u << 7) | (1u << 4)));
  // |0.3| at positions 2 and 8 tie for the 4th place: position 2 wins.
  CHECK(nearest_pattern(w, 9, 4) == ((1u << 1) | (1u << 7) | (1u << 4) | (1u << 2)));
  CHECK(nearest_pattern(w, 9, 5) == ((1u << 1) | (1u << 7) | (1u << 4) | (1u << 2) | (1u << 8)));
  const float flat[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (int n = 1; n <= 9; ++n) CHECK(nearest_pattern(flat, 9, n) == (1u << n) - 1u);
  // Against a sort-based reference on random kernels.
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (int t = 0; t < 500; ++t) {
    float k[9];
    for (float& x : k) x = nd(rng);
    const int n = 1 + t % 9;
    std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return std::fabs(k[a]) > std::fabs(k[b]); });
    std::uint32_t ref = 0;
    for (int i = 0; i < n; ++i) ref |= 1u << order[i];
    CHECK(nearest_pattern(k, 9, n) == ref);
  }
}

TEST_CASE("Algorithm 1 on a hand-worked example", "[prune]") {
  // Six kernels, n = 2. Nearest patterns (worked out by hand):
  //   k0, k1: positions {0,1} -> mask 0x003
  //   k2, k3: positions {4,8} -> mask 0x110
  //   k4:     positions {2,6} -> mask 0x044
  //   k5:     positions {1,2} -> mask 0x006
  std::vector<float> w = {0.9f,  -0.8f, 0.1f,  0.0f, 0.2f,  0.0f, 0.0f, 0.0f, 0.1f,   // k0
                          -0.5f, 0.6f,  0.0f,  0.1f, 0.0f,  0.0f, 0.2f, 0.0f, 0.0f,   // k1
                          0.0f,  0.1f,  0.0f,  0.0f, 0.7f,  0.0f, 0.2f, 0.0f, -0.9f,  // k2
                          0.1f,  0.0f,  0.0f,  0.0f, -0.4f, 0.0f, 0.0f, 0.0f, 0.4f,   // k3
                          0.1f,  0.5f,  1.0f,  0.1f, 0.1f,  0.1f, 0.9f, 0.1f, 0.1f,   // k4
                          0.0f,  0.8f,  -0.8f, 0.0f, 0.1f,  0.0f, 0.0f, 0.0f, 0.0f};  // k5
  const auto counts = count_nearest_patterns(w.data(), 6, 9, 2);
  REQUIRE(counts.size() == 4);
  // Descending count; equal counts by ascending mask.
  CHECK(counts[0].mask == 0x003);
  CHECK(counts[0].count == 2);
  CHECK(counts[1].mask == 0x110);
  CHECK(counts[1].count == 2);
  CHECK(counts[2].mask == 0x006);
  CHECK(counts[3].mask == 0x044);

  const auto kept2 = distill_patterns(w.data(), 6, 9, 2, 2);
  REQUIRE(kept2.size() == 2);
  CHECK(kept2[0].mask == 0x003);
  CHECK(kept2[1].mask == 0x110);
  const auto kept3 = distill_patterns(w.data(), 6, 9, 2, 3);
  REQUIRE(kept3.size() == 3);
  CHECK(kept3[2].mask == 0x006);

  // Projection of k4 onto {0x003, 0x110, 0x006}: kept energies 0.26, 0.02,
  // 1.25 -> SPM index 2. k5 keeps 0.64+0.64 in 0x006 -> index 2 as well.
  const std::vector<PatternMask> P = {0x003, 0x110, 0x006};
  CHECK(project_kernel(w.data() + 4 * 9, 9, P) == 2);
  CHECK(project_kernel(w.data() + 5 * 9, 9, P) == 2);
  CHECK(project_kernel(w.data() + 0 * 9, 9, P) == 0);
  CHECK(project_kernel(w.data() + 3 * 9, 9, P) == 1);

  // Fewer distinct patterns than V: the table is filled from F_n in mask order.
  const auto kept6 = distill_patterns(w.data(), 6, 9, 2, 6);
  REQUIRE(kept6.size() == 6);
  CHECK(kept6[4].mask == 0x005);  // smallest unused masks with two ones
  CHECK(kept6[4].count == 0);
  CHECK(kept6[5].mask == 0x009);
  CHECK_THROWS_AS(distill_patterns(w.data(), 6, 9, 2, 37), Error);
  CHECK_THROWS_AS(distill_patterns(w.data(), 6, 9, 2, 0), Error);
}

TEST_CASE("projection is optimal against brute force over P_l", "[prune]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  for (int t = 0; t < 300; ++t) {
    const int n = 1 + static_cast<int>(rng() % 9);
    std::vector<PatternMask> f = candidate_patterns(9, n);
    std::shuffle(f.begin(), f.end(), rng);
    const std::size_t V = 1 + rng() % f.size();
    const std::vector<PatternMask> P(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(V));
    float w[9];
    for (float& x : w) x = nd(rng);
    // Some exact ties: weights on a 1/4 grid have exactly representable squares and
    // sums, so equal errors are equal in any summation order. With arbitrary floats two
    // patterns whose errors agree to 1e-12 may still differ in the last bit of either
    // sum, and the index tie-break is then decided by rounding.
    const bool exact = t % 7 == 0;
    if (exact) {
      for (float& x : w) x = std::round(x * 4.0f) / 4.0f;
      w[3] = w[5];
    }
    const int chosen = project_kernel(w, 9, P);
    // Brute force: L2 error of every pattern in P.
    double best = 1e300;
    int best_i = -1;
    for (std::size_t i = 0; i < P.size(); ++i) {
      double err = 0;
      for (int p = 0; p < 9; ++p)
        if (!((P[i] >> p) & 1u)) err += static_cast<double>(w[p]) * w[p];
      if (err < best - 1e-12) {
        best = err;
        best_i = static_cast<int>(i);
      }
    }
    double chosen_err = 0;
    for (int p = 0; p < 9; ++p)
      if (!((P[static_cast<std::size_t>(chosen)] >> p) & 1u))
        chosen_err += static_cast<double>(w[p]) * w[p];
    CHECK(chosen_err <= best + 1e-9);
    if (exact) CHECK(chosen <= best_i);  // lowest index among the optimal ones
    for (int i = 0; i < chosen; ++i) {   // no lower index is better beyond rounding
      double err = 0;
      for (int p = 0; p < 9; ++p)
        if (!((P[static_cast<std::size_t>(i)] >> p) & 1u)) err += static_cast<double>(w[p]) * w[p];
      CHECK(err >= chosen_err - 1e-9);
    }
  }
}
