// The MAC lanes' vector arithmetic (models/pe_core/lane_dot.hpp) against
// plain loops: the layout's column stores, the pair list, the sums and the
// effectual count over random PE counts, spans and values, -128 included, windows
// with and without zeros, on every version of the sums this CPU runs (AVX-512
// VNNI, AVX2, the plain loop), each against a 64-bit sum per PE.
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
    const int pes = 1 + static_cast<int>(rng() % 150);  // one to three blocks of 64 and a rest
    const int cols = pcnn::lane_columns(pes);
    REQUIRE(cols % pcnn::kLaneColumns == 0);
    REQUIRE(cols >= pes);
    const int positions = 1 + static_cast<int>(rng() % 600);
    const int span = pcnn::lane_dot_span(positions);
    REQUIRE(span % pcnn::kLaneDotAlign == 0);
    REQUIRE(span >= positions);
    // Some rounds use only -128 and 127 (the largest products), others values
    // with zeros mixed in, some windows are all zero.
    const int kind = round % 4;
    auto value = [&]() -> std::int8_t {
      if (kind == 0) return rng() % 2 ? -128 : 127;
      if (kind == 1 && rng() % 2) return 0;
      return static_cast<std::int8_t>(static_cast<int>(rng() % 256) - 128);
    };
    std::vector<std::int8_t> window(static_cast<std::size_t>(positions));
    for (std::int8_t& v : window) v = kind == 3 && round % 8 == 3 ? 0 : value();
    // Weights [pe][position]; the layout pair-major with zero padding.
    std::vector<std::int8_t> w(static_cast<std::size_t>(pes) * positions);
    for (std::int8_t& v : w) v = value();
    std::vector<std::int16_t> layout(static_cast<std::size_t>(span) * cols, 0);
    std::vector<std::int16_t> weights_at(static_cast<std::size_t>(span), 0);
    for (int pe = 0; pe < pes; ++pe)
      for (int i = 0; i < positions; ++i) {
        const std::int8_t v = w[static_cast<std::size_t>(pe) * positions + i];
        layout[(static_cast<std::size_t>(i / 2) * cols + pe) * 2 + i % 2] = v;
        weights_at[i] += v != 0;
      }

    // The same layout stored eight position-order rows at a time.
    std::vector<std::int16_t> stored(layout.size(), 7), stored_plain(layout.size(), 7);
    for (int col0 = 0; col0 < cols; col0 += pcnn::kLaneColumns) {
      std::vector<std::int16_t> rows(static_cast<std::size_t>(pcnn::kLaneColumns) * span, 0);
      for (int r = 0; r < pcnn::kLaneColumns && col0 + r < pes; ++r)
        for (int i = 0; i < positions; ++i)
          rows[static_cast<std::size_t>(r) * span + i] =
              w[static_cast<std::size_t>(col0 + r) * positions + i];
      pcnn::lane_store_columns(rows.data(), span, stored.data(), cols, col0);
      pcnn::lane_store_columns_scalar(rows.data(), span, stored_plain.data(), cols, col0);
    }
    REQUIRE(stored == layout);
    REQUIRE(stored_plain == layout);

    std::vector<pcnn::LanePair> pairs(static_cast<std::size_t>(span / 2));
    const int count = pcnn::lane_pairs(window.data(), positions, pairs.data());
    int nonzero = 0;  // pairs with a non-zero activation, in order
    for (int j = 0; 2 * j < positions; ++j) {
      const std::int8_t x0 = window[2 * j], x1 = 2 * j + 1 < positions ? window[2 * j + 1] : 0;
      if (x0 == 0 && x1 == 0) continue;
      REQUIRE(nonzero < count);
      CHECK(pairs[nonzero].j == j);
      CHECK(static_cast<std::int16_t>(pairs[nonzero].x & 0xffff) == x0);
      CHECK(static_cast<std::int16_t>(pairs[nonzero].x >> 16) == x1);
      ++nonzero;
    }
    REQUIRE(count == nonzero);

    std::vector<std::int32_t> want(static_cast<std::size_t>(cols), 0);
    for (int pe = 0; pe < pes; ++pe) {
      std::int64_t acc = 0;  // wide, so that the reference cannot wrap
      for (int i = 0; i < positions; ++i)
        acc +=
            static_cast<std::int64_t>(w[static_cast<std::size_t>(pe) * positions + i]) * window[i];
      want[pe] = static_cast<std::int32_t>(acc);
    }
    std::vector<std::int32_t> fast(static_cast<std::size_t>(cols), 7), plain(fast);
    pcnn::lane_dot_pairs(layout.data(), cols, pairs.data(), count, fast.data());
    pcnn::lane_dot_pairs_scalar(layout.data(), cols, pairs.data(), count, plain.data());
    INFO("round " << round << " pes " << pes << " positions " << positions);
    CHECK(fast == want);
    CHECK(plain == want);
    for (const pcnn::LaneDotVersion v : pcnn::lane_dot_versions()) {
      std::vector<std::int32_t> sums(static_cast<std::size_t>(cols), 7);
      pcnn::lane_dot_pairs_on(v, layout.data(), cols, pairs.data(), count, sums.data());
      INFO("version " << static_cast<int>(v));
      CHECK(sums == want);
    }

    std::uint64_t effectual = 0;  // products with both operands non-zero
    for (int pe = 0; pe < pes; ++pe)
      for (int i = 0; i < positions; ++i)
        effectual += w[static_cast<std::size_t>(pe) * positions + i] != 0 && window[i] != 0;
    CHECK(pcnn::lane_effectual(weights_at.data(), window.data(), positions) == effectual);
  }
}
