// The MAC lanes' vector arithmetic (models/pe_core/lane_dot.hpp) against
// plain loops: random row counts, spans and values, -128 included, on
// whichever version (AVX2 or baseline) the CPU selects.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "models/pe_core/lane_dot.hpp"

TEST_CASE("Lane dot products equal a plain loop over random shapes and extreme values",
          "[pe_core]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    const int rows = 1 + static_cast<int>(rng() % 80);
    const int positions = 1 + static_cast<int>(rng() % 600);
    const int span = pcnn::lane_dot_span(positions);
    REQUIRE(span % pcnn::kLaneDotAlign == 0);
    REQUIRE(span >= positions);
    std::vector<std::int8_t> window(static_cast<std::size_t>(positions));
    std::vector<std::int16_t> w(static_cast<std::size_t>(rows) * span, 0);
    // Some rounds use only -128 and 127 (the largest products), others values
    // with zeros mixed in.
    const int kind = round % 3;
    auto value = [&]() -> std::int8_t {
      if (kind == 0) return rng() % 2 ? -128 : 127;
      if (kind == 1 && rng() % 2) return 0;
      return static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    };
    for (std::int8_t& v : window) v = value();
    std::vector<std::int16_t> weights_at(static_cast<std::size_t>(span), 0);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < positions; ++i) {
        const std::int8_t v = value();
        w[static_cast<std::size_t>(r) * span + i] = v;
        weights_at[i] += v != 0;
      }
    std::vector<std::int16_t> x(static_cast<std::size_t>(span), 7);
    pcnn::lane_widen(window.data(), positions, span, x.data());
    for (int i = 0; i < span; ++i) REQUIRE(x[i] == (i < positions ? window[i] : 0));

    std::vector<std::int32_t> fast(static_cast<std::size_t>(rows)), plain(fast.size());
    pcnn::lane_dot_rows(w.data(), rows, span, x.data(), fast.data());
    pcnn::lane_dot_rows_scalar(w.data(), rows, span, x.data(), plain.data());
    CHECK(fast == plain);

    std::uint64_t effectual = 0;  // products with both operands non-zero
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < positions; ++i)
        effectual += w[static_cast<std::size_t>(r) * span + i] != 0 && window[i] != 0;
    CHECK(pcnn::lane_effectual(weights_at.data(), x.data(), span) == effectual);
  }
}
