// Architecture JSON: defaults are the paper's, round trip, and every kind of
// bad value is an error naming the key.
#include <catch2/catch.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/sim/arch_config.hpp"

using nlohmann::json;

TEST_CASE("architecture defaults are the paper's design and round-trip", "[sim][arch]") {
  const pcnn::ArchConfig a;
  CHECK(a.pe_count == 64);
  CHECK(a.lanes_per_pe == 4);
  CHECK(a.clock_mhz == 300.0);
  CHECK(a.weight_sram.size_bytes == 128 * 1024);
  CHECK(a.pattern_sram.size_bytes == 4 * 1024);
  CHECK(a.kernel_register_words == 60);
  const pcnn::ArchConfig b = pcnn::arch_from_json(pcnn::arch_to_json(a), "x");
  CHECK(pcnn::arch_to_json(b) == pcnn::arch_to_json(a));
  const pcnn::ArchConfig c =
      pcnn::arch_from_json(json{{"pe_count", 32}, {"dram", {{"latency_ns", 10.5}}}}, "x");
  CHECK(c.pe_count == 32);
  CHECK(c.dram.latency_ns == 10.5);
  CHECK(c.lanes_per_pe == 4);
}

TEST_CASE("architecture errors name the key", "[sim][arch]") {
  auto fails_with = [](const json& j, const std::string& text) {
    REQUIRE_THROWS_AS(pcnn::arch_from_json(j, "arch.json"), pcnn::Error);
    REQUIRE_THROWS_WITH(pcnn::arch_from_json(j, "arch.json"), Catch::Contains(text));
  };
  fails_with(json{{"pe_cnt", 4}}, "arch.json: pe_cnt: unknown key");
  fails_with(json{{"dram", {{"bandwith_gbps", 4}}}}, "arch.json: dram.bandwith_gbps: unknown key");
  fails_with(json{{"pe_count", "64"}}, "arch.json: pe_count: expected an integer");
  fails_with(json{{"pe_count", 2.5}}, "arch.json: pe_count: expected an integer");
  fails_with(json{{"double_buffering", 1}}, "double_buffering: expected true or false");
  fails_with(json{{"pe_count", 0}}, "arch.json: pe_count: must be in 1..4096");
  fails_with(json{{"weight_sram", {{"size_bytes", 1024}}}},
             "arch.json: weight_sram.size_bytes: too small for one tile");
  fails_with(json{{"data_sram", {{"word_bytes", 0}}}}, "data_sram.word_bytes: must be in 1..4096");
  fails_with(json{{"data_sram", 5}}, "data_sram: expected a JSON object");
  fails_with(json::array(), "arch.json: top level: expected a JSON object");
  fails_with(json{{"clock_mhz", -1}}, "clock_mhz");
}

TEST_CASE("the post_process section sets the unit's parameters and names a bad key",
          "[sim][arch][post_process]") {
  const pcnn::ArchConfig d;
  CHECK(d.post_process.lanes == 32);
  CHECK(d.post_process.line_buffer_bytes == 16384);
  const pcnn::ArchConfig a = pcnn::arch_from_json(
      json{{"post_process",
            {{"lanes", 8},
             {"line_buffer_bytes", 4096},
             {"dram_burst_bytes", 64},
             {"setup_cycles", 0},
             {"register_write_cycles", 2}}}},
      "x");
  CHECK(a.post_process.lanes == 8);
  CHECK(a.post_process.line_buffer_bytes == 4096);
  CHECK(a.post_process.dram_burst_bytes == 64);
  CHECK(a.post_process.setup_cycles == 0);
  CHECK(a.post_process.register_write_cycles == 2);
  CHECK(a.pe_count == 64);  // the rest keeps its defaults
  CHECK(pcnn::arch_to_json(pcnn::arch_from_json(pcnn::arch_to_json(a), "x")) ==
        pcnn::arch_to_json(a));
  CHECK(pcnn::arch_to_json(a)["post_process"]["lanes"] == 8);

  auto fails_with = [](const json& pp, const std::string& text) {
    const json j{{"post_process", pp}};
    REQUIRE_THROWS_AS(pcnn::arch_from_json(j, "arch.json"), pcnn::Error);
    REQUIRE_THROWS_WITH(pcnn::arch_from_json(j, "arch.json"), text);
  };
  fails_with({{"lanes", 0}}, "arch.json: post_process.lanes: must be in 1..4096");
  fails_with({{"lanes", 4097}}, "arch.json: post_process.lanes: must be in 1..4096");
  fails_with({{"line_buffer_bytes", 32}},
             "arch.json: post_process.line_buffer_bytes: must be in 64..16777216 (16 MiB)");
  fails_with({{"line_buffer_bytes", (1 << 24) + 1}},
             "arch.json: post_process.line_buffer_bytes: must be in 64..16777216 (16 MiB)");
  fails_with({{"dram_burst_bytes", 0}},
             "arch.json: post_process.dram_burst_bytes: must be in 1..1048576 (1 MiB)");
  fails_with({{"setup_cycles", -1}}, "arch.json: post_process.setup_cycles: must be in 0..1000000");
  fails_with({{"register_write_cycles", 1001}},
             "arch.json: post_process.register_write_cycles: must be in 0..1000");
  fails_with({{"lane", 8}}, "arch.json: post_process.lane: unknown key");
  fails_with({{"lanes", 8.5}}, "arch.json: post_process.lanes: expected an integer");
  fails_with({{"line_buffer_bytes", 1LL << 40}},
             "arch.json: post_process.line_buffer_bytes: integer out of range");
  REQUIRE_THROWS_WITH(pcnn::arch_from_json(json{{"post_process", 8}}, "arch.json"),
                      Catch::Contains("post_process: expected a JSON object"));
}
