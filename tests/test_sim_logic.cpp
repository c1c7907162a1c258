// Unit tests of the accelerator's plain C++ logic (no simulation kernel):
// sparsity pointers against a brute-force definition, SPM decode, the PE's
// requantisation against the golden one, and the tile plan.
#include <catch2/catch.hpp>

#include <bitset>
#include <random>

#include "models/pe_group/pe_logic.hpp"
#include "models/sparsity_io/sparsity_io_logic.hpp"
#include "models/spm_decoder/spm_decoder_logic.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/tile_plan.hpp"

TEST_CASE("pointer offsets count the zeros below each set position", "[sim][logic]") {
  // Paper Fig. 4c style example: mask 0b110100101 (positions 0, 2, 5, 7, 8).
  std::uint8_t off[16];
  pcnn::pointer_offsets(0b110100101u, 9, off);
  const std::uint8_t expected[9] = {0, 0, 1, 0, 0, 3, 0, 4, 4};
  for (int p = 0; p < 9; ++p) CHECK(int(off[p]) == int(expected[p]));
}

TEST_CASE("sparsity pointers match a brute-force definition for all masks", "[sim][logic]") {
  std::uint8_t act[16], wptr[16];
  for (std::uint32_t w = 0; w < 512; ++w) {
    for (std::uint32_t a = 0; a < 512; a += 7) {
      const int count = pcnn::sparsity_pointers(w, a, 9, act, wptr);
      std::uint8_t act2[16], wptr2[16];
      REQUIRE(pcnn::walk_pointers(w, a, act2, wptr2) == count);
      for (int j = 0; j < count; ++j) {
        REQUIRE(act2[j] == act[j]);
        REQUIRE(wptr2[j] == wptr[j]);
      }
      // Brute force: j-th set bit p of w & a; weight pointer = set bits of w below p.
      int j = 0;
      for (int p = 0; p < 9; ++p) {
        if (!(((w & a) >> p) & 1u)) continue;
        REQUIRE(j < count);
        CHECK(int(act[j]) == p);
        CHECK(int(wptr[j]) == static_cast<int>(std::bitset<16>(w & ((1u << p) - 1)).count()));
        ++j;
      }
      REQUIRE(j == count);
    }
  }
}

TEST_CASE("SPM decode returns the table mask, all ones for a dense layer", "[sim][logic]") {
  pcnn::PatternTable t;
  t.kernel_size = 9;
  t.n = 4;
  t.masks = {0b000011011, 0b110110000};
  CHECK(t.decode(0) == 0b000011011);
  CHECK(t.decode(1) == 0b110110000);
  CHECK(t.decode(2) == 0);  // beyond the table: no weights
  pcnn::PatternTable dense;
  dense.kernel_size = 9;
  CHECK(dense.decode(5) == 0x1FF);
}

TEST_CASE("PE requantisation equals the golden rule", "[sim][logic]") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 200000; ++i) {
    pcnn::Requant rq;
    rq.multiplier = static_cast<std::int32_t>(pcnn::uniform_int(rng, 1 << 30, (1LL << 31) - 1));
    rq.shift = static_cast<std::int32_t>(pcnn::uniform_int(rng, -31, 31));
    const auto acc = static_cast<std::int32_t>(
        pcnn::uniform_int(rng, std::numeric_limits<std::int32_t>::min(),
                          std::numeric_limits<std::int32_t>::max()));
    const bool relu = (i & 1) != 0;
    REQUIRE(pcnn::pe_requantize(acc, rq.multiplier, rq.shift, relu) ==
            pcnn::golden_requantize(acc, rq, relu));
  }
  // Ties round half up: 3 * 2^30 / 2^31 = 1.5 -> 2, -1.5 -> -1.
  CHECK(pcnn::pe_requantize(3, 1 << 30, 0, false) == 2);
  CHECK(pcnn::pe_requantize(-3, 1 << 30, 0, false) == -1);
  CHECK(pcnn::pe_requantize(-1000, 1 << 30, 0, true) == 0);
  CHECK(pcnn::pe_requantize(1000, 1 << 30, 0, false) == 127);
}

TEST_CASE("tile plan: groups, tiles, bands and chunks", "[sim][logic]") {
  std::mt19937_64 rng(7);
  pcnn::ConvGeometry g;
  g.in_channels = 64;
  g.out_channels = 70;
  g.in_h = g.in_w = 32;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  const pcnn::SpmLayer layer = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "t");
  pcnn::ArchConfig arch;
  const pcnn::TilePlan p = pcnn::make_tile_plan(layer, arch);
  CHECK(p.channels_per_group == 15);
  CHECK(p.groups == 5);  // 15 + 15 + 15 + 15 + 4
  CHECK(p.group_channels(4, 64) == 4);
  CHECK(p.tiles == 2);
  CHECK(p.index_bits == 4);
  // 256 partial sums per PE hold 8 rows of 32 positions.
  REQUIRE(p.bands.size() == 4);
  CHECK(p.bands[0].out_row_begin == 0);
  CHECK(p.bands[0].out_row_end == 8);
  CHECK(p.bands[0].in_row_begin == 0);
  CHECK(p.bands[0].in_row_end == 9);
  CHECK(p.bands[1].in_row_begin == 7);
  CHECK(p.bands[1].in_row_end == 17);
  // Pattern SRAM: 2 KB per buffer, 64 * 15 * 4 bits = 480 bytes a group -> 4 groups.
  CHECK(p.pattern_group_bytes == 480);
  CHECK(p.groups_per_chunk == 4);
  CHECK(p.chunks_per_tile == 2);

  pcnn::ArchConfig tiny = arch;
  tiny.data_sram.size_bytes = 1024;
  REQUIRE_THROWS_WITH(pcnn::make_tile_plan(layer, tiny, "a.json"),
                      Catch::Contains("a.json: data_sram.size_bytes: too small for one tile"));
  pcnn::ArchConfig few_psums = arch;
  few_psums.psum_entries_per_pe = 16;
  REQUIRE_THROWS_WITH(pcnn::make_tile_plan(layer, few_psums, "a.json"),
                      Catch::Contains("psum_entries_per_pe"));
}
