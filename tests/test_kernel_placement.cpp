// The refill's table-driven pieces against their one-at-a-time definitions:
// the group layout by table (models/pe_core/kernel_placement.hpp) against a
// walk over each kernel's mask bits, the bulk index unpacking against
// unpack_bits() per index, and the SPM decoder's table decode against decode()
// per index, over random tables, widths and offsets with a printed seed.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "models/pe_core/kernel_placement.hpp"
#include "models/pe_core/lane_dot.hpp"
#include "models/spm_decoder/spm_decoder.hpp"
#include "pcnn/image/spm_layer.hpp"

namespace {

// A random K-bit mask with `bits` ones.
std::uint16_t random_mask(int K, int bits, std::mt19937_64& rng) {
  std::uint16_t m = 0;
  while (__builtin_popcount(m) < bits) m |= static_cast<std::uint16_t>(1u << (rng() % K));
  return m;
}

// The definition: kernel c's mask bits in position order take the register
// words c*n, c*n + 1, ...; every other position of the row is zero.
int walk_layout(const pcnn::PatternTable& table, const std::int8_t* reg, int n,
                const std::uint32_t* indices, int cg, std::int16_t* row, int span) {
  const int K = table.kernel_size;
  std::fill(row, row + span, std::int16_t{0});
  int placed = 0;
  for (int c = 0; c < cg; ++c) {
    int rank = 0;
    for (std::uint32_t m = table.decode(indices[c]); m != 0; m &= m - 1, ++rank, ++placed)
      row[c * K + __builtin_ctz(m)] = reg[c * n + rank];
  }
  return placed;
}

}  // namespace

TEST_CASE("Kernels placed by table equal a walk over their mask bits", "[pe_core]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  pcnn::KernelPlacement placement;
  int vector_rounds = 0;
  for (int round = 0; round < 400; ++round) {
    pcnn::PatternTable table;
    table.kernel_size = 1 + static_cast<int>(rng() % 16);  // K = 1 .. 16, 9 most often
    if (round % 3 == 0) table.kernel_size = 9;
    const int K = table.kernel_size;
    table.n = 1 + static_cast<int>(rng() % K);
    const int n = table.n;
    const bool dense = round % 10 == 0;  // a dense layer: no table, every position
    if (dense) {
      table.n = K;
    } else {
      const int V = round % 7 == 0 ? 512 : 1 + static_cast<int>(rng() % 64);
      for (int v = 0; v < V; ++v) table.masks.push_back(random_mask(K, n, rng));
    }
    const int layout_n = dense ? K : n;
    const int words = 60 + static_cast<int>(rng() % 40);
    const int kpr = std::max(1, words / layout_n);
    const int cg = 1 + static_cast<int>(rng() % kpr);
    // Spans as the MAC lanes use them, and wider ones.
    const int span = pcnn::lane_dot_span(cg * K) + (round % 4 == 0 ? 16 : 0);
    std::vector<std::int8_t> reg(static_cast<std::size_t>(words) +
                                 pcnn::KernelPlacement::kReadAhead);
    for (std::int8_t& w : reg)
      w = round % 5 == 0 ? std::int8_t{-128} : static_cast<std::int8_t>(rng() % 256);
    std::vector<std::uint32_t> indices(static_cast<std::size_t>(cg), 0);
    if (!dense)
      for (std::uint32_t& i : indices) i = static_cast<std::uint32_t>(rng() % table.masks.size());

    std::vector<std::int16_t> want(static_cast<std::size_t>(span), 7);
    const int placed =
        walk_layout(table, reg.data(), layout_n, indices.data(), cg, want.data(), span);
    REQUIRE(placed == cg * layout_n);

    placement.start_layer(table);
    // Rows start dirty: the layout must write every position.
    std::vector<std::int16_t> fast(static_cast<std::size_t>(span), 7),
        plain(static_cast<std::size_t>(span), 7);
    CHECK(placement.place_row(reg.data(), layout_n, indices.data(), cg, fast.data(), span) ==
          placed);
    CHECK(placement.place_row_scalar(reg.data(), layout_n, indices.data(), cg, plain.data(),
                                     span) == placed);
    INFO("round " << round << " K " << K << " n " << layout_n << " cg " << cg << " span " << span);
    REQUIRE(fast == want);
    REQUIRE(plain == want);
    vector_rounds += placement.vectorised();
  }
  INFO("rounds on the vector version: " << vector_rounds);
  SUCCEED();
}

TEST_CASE("Indices unpacked as a run equal unpack_bits one by one", "[pe_core]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 300; ++round) {
    const int bits = static_cast<int>(rng() % 33);  // 0 .. 32, odd widths included
    const std::size_t values = 1 + rng() % 300;
    std::vector<std::uint32_t> v(values);
    const std::uint64_t mask = bits == 32 ? 0xffffffffull : (std::uint64_t{1} << bits) - 1;
    for (std::uint32_t& x : v) x = static_cast<std::uint32_t>(rng() & mask);
    const std::vector<std::uint8_t> packed = pcnn::pack_bits(v, bits);
    // Every offset and length near the stream's ends, random ones inside.
    const std::int64_t first = round % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % values);
    const std::int64_t count = round % 4 == 0
                                   ? static_cast<std::int64_t>(values) - first
                                   : static_cast<std::int64_t>(rng() % (values - first + 1));
    std::vector<std::uint32_t> run(static_cast<std::size_t>(count) + 1, 0xdeadbeef);
    pcnn::unpack_bits_run(packed.data(), packed.size(), first, count, bits, run.data());
    INFO("bits " << bits << " first " << first << " count " << count);
    for (std::int64_t i = 0; i < count; ++i) {
      REQUIRE(run[static_cast<std::size_t>(i)] ==
              pcnn::unpack_bits(packed.data(), packed.size(), first + i, bits));
      REQUIRE(run[static_cast<std::size_t>(i)] == v[static_cast<std::size_t>(first + i)]);
    }
    CHECK(run[static_cast<std::size_t>(count)] == 0xdeadbeef);  // nothing written beyond
  }
  // A run that passes the end of the stream is refused like a single index.
  const std::vector<std::uint8_t> one = pcnn::pack_bits({1, 2}, 3);
  std::uint32_t out[4];
  CHECK_THROWS_AS(pcnn::unpack_bits_run(one.data(), one.size(), 1, 2, 3, out), pcnn::Error);
  CHECK_THROWS_AS(pcnn::unpack_bits_run(one.data(), one.size(), -1, 1, 3, out), pcnn::Error);
  CHECK_NOTHROW(pcnn::unpack_bits_run(one.data(), one.size(), 0, 2, 3, out));
  CHECK(out[0] == 1);
  CHECK(out[1] == 2);
}

TEST_CASE("The SPM decoder decodes a refill's indices by table as one at a time", "[pe_core]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  pcnn::PatternTable table;
  table.kernel_size = 9;
  table.n = 4;
  for (int v = 0; v < 16; ++v) table.masks.push_back(random_mask(9, 4, rng));
  std::vector<std::uint32_t> indices(60);
  for (std::uint32_t& i : indices) i = static_cast<std::uint32_t>(rng() % 16);
  pcnn::SpmDecoder bulk, single;
  std::vector<std::uint16_t> masks(indices.size());
  bulk.decode_run(table, indices.data(), static_cast<int>(indices.size()), masks.data());
  for (std::size_t i = 0; i < indices.size(); ++i)
    CHECK(masks[i] == single.decode(table, indices[i]));
  CHECK(bulk.decodes() == single.decodes());
  // A dense layer decodes every index to all K positions.
  pcnn::PatternTable dense;
  bulk.decode_run(dense, indices.data(), 3, masks.data());
  CHECK(masks[0] == dense.full_mask());
  CHECK(bulk.decodes() == indices.size() + 3);
  // An index beyond the table is an error, as from decode().
  indices[5] = 16;
  CHECK_THROWS_AS(bulk.decode_run(table, indices.data(), 6, masks.data()), pcnn::Error);
}
