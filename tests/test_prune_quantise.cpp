// int8 weight quantisation and the integer requantisation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

#include "pcnn/core/error.hpp"
#include "pcnn/prune/quantise.hpp"

using namespace pcnn;

TEST_CASE("weight quantisation stays within half a step and uses the full range", "[prune]") {
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  for (int t = 0; t < 50; ++t) {
    std::vector<float> w(64);
    float absmax = 0;
    for (float& x : w) {
      x = nd(rng);
      absmax = std::max(absmax, std::fabs(x));
    }
    const float s = symmetric_scale(absmax);
    CHECK(s == Approx(absmax / 127.0f));
    int qmax = 0;
    for (float x : w) {
      const int q = quantise_weight(x, s);
      CHECK(q >= -127);
      CHECK(q <= 127);
      CHECK(std::fabs(x - q * s) <= 0.5f * s * (1 + 1e-5f));
      qmax = std::max(qmax, std::abs(q));
    }
    CHECK(qmax == 127);
  }
  CHECK(symmetric_scale(0.0f) == 1.0f);
  CHECK(quantise_weight(1000.0f, 1.0f) == 127);
  CHECK(quantise_weight(-1000.0f, 1.0f) == -127);
  CHECK(quantise_bias(1e30f, 1e-3f, 1e-3f) == INT32_MAX);
  CHECK(quantise_bias(-1e30f, 1e-3f, 1e-3f) == INT32_MIN);
  CHECK(quantise_bias(0.5f, 0.1f, 0.5f) == 10);
}

TEST_CASE("requantisation multiplier and shift represent the real scale", "[prune]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> ue(-40.0, 20.0);
  for (int t = 0; t < 2000; ++t) {
    const double r = std::pow(2.0, ue(rng));
    const Requant q = requant_from_real(r);
    REQUIRE(q.multiplier >= (1 << 30));
    REQUIRE(q.shift >= -31);
    REQUIRE(q.shift <= 31);
    const double back = std::ldexp(static_cast<double>(q.multiplier), -(31 + q.shift));
    if (r >= std::ldexp(1.0, -32)) CHECK(std::fabs(back - r) <= r * std::ldexp(1.0, -31));
  }
  const Requant one = requant_from_real(1.0);
  CHECK(one.multiplier == (1 << 30));
  CHECK(one.shift == -1);
  CHECK_THROWS_AS(requant_from_real(0.0), Error);
  CHECK_THROWS_AS(requant_from_real(std::ldexp(1.0, 31)), Error);
  CHECK_THROWS_AS(requant_from_real(NAN), Error);
}

TEST_CASE("requantise rounds half up and saturates", "[prune]") {
  const Requant half = requant_from_real(0.5);  // y = acc / 2
  CHECK(requantise(3, half, false) == 2);       //  1.5 ->  2
  CHECK(requantise(-3, half, false) == -1);     // -1.5 -> -1 (half up, not away from zero)
  CHECK(requantise(5, half, false) == 3);       //  2.5 ->  3
  CHECK(requantise(-5, half, false) == -2);
  CHECK(requantise(-5, half, true) == 0);
  CHECK(requantise(1000, half, false) == 127);
  CHECK(requantise(-1000, half, false) == -128);
  CHECK(requantise(INT32_MAX, requant_from_real(1.0), false) == 127);
  CHECK(requantise(INT32_MIN, requant_from_real(1.0), false) == -128);

  // Against exact long-double arithmetic (acc * multiplier < 2^62 fits the
  // 64-bit mantissa, so the reference is exact).
  const auto seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int t = 0; t < 20000; ++t) {
    const std::int32_t acc = static_cast<std::int32_t>(rng());
    Requant q;
    q.multiplier = static_cast<std::int32_t>((1u << 30) + (rng() % (1u << 30)));
    q.shift = static_cast<std::int32_t>(rng() % 63) - 31;
    const bool relu = rng() & 1;
    const long double x = std::ldexp(static_cast<long double>(acc) * q.multiplier, -(31 + q.shift));
    long double y = std::floor(x + 0.5L);
    y = std::min<long double>(127, std::max<long double>(relu ? 0 : -128, y));
    REQUIRE(requantise(acc, q, relu) == static_cast<int>(y));
  }
}
