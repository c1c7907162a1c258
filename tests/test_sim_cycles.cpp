// Cycle counts of tiny layers computed by hand from the documented pipeline
// (docs/architecture.md, "Timing model"), for each activation mode.
#include <catch2/catch.hpp>

#include <random>

#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

// 2 PEs x 4 lanes, 12-word kernel register (4 kernels of n = 3 per row).
pcnn::ArchConfig tiny_arch() {
  pcnn::ArchConfig a;
  a.pe_count = 2;
  a.lanes_per_pe = 4;
  a.kernel_register_words = 12;
  a.psum_entries_per_pe = 64;
  a.weight_sram = {256, 8, 1, 2};   // 8-byte words, 1 bank, 2-cycle latency
  a.pattern_sram = {64, 4, 1, 1};
  a.data_sram = {2048, 8, 16, 0};   // wide enough that a window never stalls
  a.dram.bandwidth_gbps = 1000.0;
  a.dram.latency_ns = 0.0;
  a.kernel_register_double_buffering = false;  // the timeline below; double: its own test
  return a;
}

// C = 8, M = 2, 6x6 input, no padding: 4x4 = 16 output positions, n = 3, V = 2.
pcnn::LayerJob tiny_job(const std::vector<std::int8_t>& input) {
  std::mt19937_64 rng(3);
  pcnn::ConvGeometry g;
  g.in_channels = 8;
  g.out_channels = 2;
  g.in_h = g.in_w = 6;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 3, 2, false, rng, "tiny");
  job.input = input;
  return job;
}

pcnn::LayerStats run(pcnn::ActMode mode, const std::vector<std::int8_t>& input,
                     bool double_registers = false) {
  pcnn::SimOptions opt;
  opt.act_mode = mode;
  const std::vector<pcnn::LayerJob> jobs = {tiny_job(input)};
  pcnn::ArchConfig arch = tiny_arch();
  arch.kernel_register_double_buffering = double_registers;
  const auto results = pcnn::simulate_in_child(jobs, arch, opt);
  REQUIRE(results[0].output == pcnn::golden_conv_layer(jobs[0].layer, jobs[0].input));
  // The walk over the module hierarchy finds the same counters.
  const nlohmann::json& m = results[0].module_stats;
  CHECK(m["top.pe_group"]["mac_cycles"] == results[0].stats.mac_cycles);
  CHECK(m["top.weight_sram"]["bytes_read"] == results[0].stats.weight_sram.bytes_read);
  CHECK(m["top.dram"]["bytes_written"] == results[0].stats.dram.bytes_written);
  CHECK(m["top.pe_group"]["spm_decoder"]["decodes"] == results[0].stats.pattern_decodes);
  return results[0].stats;
}

// Only channel 0 is non-zero (all 36 pixels).
std::vector<std::int8_t> channel0_input() {
  std::vector<std::int8_t> in(8 * 36, 0);
  for (int i = 0; i < 36; ++i) in[i] = static_cast<std::int8_t>(1 + i % 7);
  return in;
}

// Hand-computed parts common to every mode:
//  groups: kpr = 12 / 3 = 4 channels -> 2 groups, 1 tile of 2 PEs, 1 band;
//  refill: Weight SRAM burst of 2 x 12 = 24 bytes = 3 words, 1 bank, latency 2
//          -> 5 cycles; Pattern SRAM: 2 x 4 one-bit indices = 1 byte -> 1 + 1 = 2
//          cycles, hidden under the weights; + 1 decode cycle. 2 refills.
//  write-back: 16 positions x 2 bytes at even addresses -> 16 words, 16 banks,
//          latency 0 -> 1 cycle.
//  windows: at most 9 slices of 4 bytes = 9 words, 16 banks, latency 0 -> 1 cycle,
//          so stage 1 keeps up with 1-cycle steps and never stalls.
//  DMA (clock 300 MHz, period P = 3.33 ns; DRAM time is negligible at 1000 GB/s):
//          the input band (288 B = 36 words, 16 banks) is in Data SRAM after 3
//          cycles (10 ns); the chunk's Weight SRAM write (2 groups x 24 B = 6 words,
//          1 bank, latency 2) takes 8 more cycles: ready at 36.9 ns = 11.1 P.
//          Cycles 1..11 wait (DRAM), the first refill runs in cycles 12..17.
//  timeline: refill 6, pointer generation 1, pass 0 steps, refill 6, pointer
//          generation 1, pass 1 steps, write-back 1; then 1 cycle moving the
//          32-byte output band to DRAM (booked as DRAM).
//  total = 11 + 6 + 1 + steps0 + 6 + 1 + steps1 + 1 + 1 = 27 + steps.
void check_common(const pcnn::LayerStats& s) {
  CHECK(s.groups == 2);
  CHECK(s.tiles == 1);
  CHECK(s.bands == 1);
  CHECK(s.refills == 2);
  CHECK(s.steps == 32);
  CHECK(s.stalls.weight_sram == 2 * 5);
  CHECK(s.stalls.pattern_sram == 0);
  CHECK(s.stalls.register_refill == 2 * 1);
  CHECK(s.stalls.writeback == 1);
  CHECK(s.stalls.data_sram == 0);
  CHECK(s.stalls.dram == 11 + 1);
  CHECK(s.stalls.fill_drain == 2);
  CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
}

}  // namespace

TEST_CASE("hand-computed cycles, mode off", "[sim][cycles]") {
  const pcnn::LayerStats s = run(pcnn::ActMode::off, channel0_input());
  check_common(s);
  // Every step streams 4 kernels x 3 weights = 12 MACs over 4 lanes: 3 cycles.
  CHECK(s.mac_cycles == 2 * 16 * 3);
  CHECK(s.cycles == 27 + 2 * 16 * 3);
  CHECK(s.macs_issued == 2u * 16 * 8 * 3);
}

TEST_CASE("hand-computed cycles, mode gate", "[sim][cycles]") {
  const pcnn::LayerStats s = run(pcnn::ActMode::gate, channel0_input());
  check_common(s);
  // Same cycles as off; only channel 0's 3 weights meet non-zero activations.
  CHECK(s.mac_cycles == 2 * 16 * 3);
  CHECK(s.cycles == 27 + 2 * 16 * 3);
  CHECK(s.macs_issued == 2u * 16 * 3);
}

TEST_CASE("hand-computed cycles, mode skip", "[sim][cycles]") {
  const pcnn::LayerStats s = run(pcnn::ActMode::skip, channel0_input());
  check_common(s);
  // Group 0: 3 effectual MACs per PE -> 1 cycle; group 1: none -> the
  // minimum of 1 cycle per step.
  CHECK(s.mac_cycles == 16 * 1 + 16 * 1);
  CHECK(s.cycles == 27 + 32);  // one step per cycle: stage 1 and 2 keep up
  CHECK(s.macs_issued == 2u * 16 * 3);
}

// Double-buffered kernel registers: the first refill is as above (cycles
// 12..17); pass 1's registers load into the other set in cycles 19..24 while
// pass 0 computes (hidden), and pass 1 starts the cycle pass 0's last step
// leaves stage 3, its first window entering stage 2 at once: one cycle of
// pointer generation instead of 6 + 1. total = 11 + 6 + 1 + steps0 + 1 +
// steps1 + 1 + 1 = 21 + steps, i.e. 6 cycles fewer.
TEST_CASE("hand-computed cycles with double-buffered kernel registers", "[sim][cycles]") {
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    INFO("mode " << pcnn::to_string(mode));
    const pcnn::LayerStats s = run(mode, channel0_input(), true);
    CHECK(s.refills == 2);
    CHECK(s.steps == 32);
    CHECK(s.stalls.weight_sram == 5);
    CHECK(s.stalls.pattern_sram == 0);
    CHECK(s.stalls.register_refill == 1);
    CHECK(s.stalls.writeback == 1);
    CHECK(s.stalls.data_sram == 0);
    CHECK(s.stalls.dram == 11 + 1);
    CHECK(s.stalls.fill_drain == 2);
    const std::uint64_t steps = mode == pcnn::ActMode::skip ? 32 : 2 * 16 * 3;
    CHECK(s.mac_cycles == steps);
    CHECK(s.cycles == 21 + steps);
    CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
  }
}

TEST_CASE("hand-computed cycles, mode skip with dense activations equals off", "[sim][cycles]") {
  std::vector<std::int8_t> in(8 * 36);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int8_t>(1 + i % 5);
  const pcnn::LayerStats s = run(pcnn::ActMode::skip, in);
  check_common(s);
  CHECK(s.mac_cycles == 2 * 16 * 3);
  CHECK(s.cycles == 27 + 2 * 16 * 3);
  CHECK(s.macs_issued == 2u * 16 * 8 * 3);
}

TEST_CASE("a slow Data SRAM shows up as data_sram stalls, not as MAC cycles", "[sim][cycles]") {
  // One bank: a row-start window costs 9 cycles, an in-row one 3, while each
  // skip-mode step needs 1 cycle: stage 1 cannot keep up.
  pcnn::ArchConfig slow = tiny_arch();
  slow.data_sram = {2048, 8, 1, 0};
  pcnn::SimOptions opt;
  opt.act_mode = pcnn::ActMode::skip;
  const std::vector<pcnn::LayerJob> jobs = {tiny_job(channel0_input())};
  const auto fast = pcnn::simulate_in_child(jobs, tiny_arch(), opt)[0].stats;
  const auto r = pcnn::simulate_in_child(jobs, slow, opt)[0];
  REQUIRE(r.output == pcnn::golden_conv_layer(jobs[0].layer, jobs[0].input));
  CHECK(r.stats.mac_cycles == fast.mac_cycles);
  CHECK(r.stats.stalls.data_sram > 0);
  CHECK(r.stats.cycles > fast.cycles);
  CHECK(r.stats.mac_cycles + r.stats.stalls.total() == r.stats.cycles);
  // Per pass: 4 rows of (9 + 3 + 3 + 3) read cycles for 16 one-cycle steps,
  // so at least 72 cycles per pass pass through stage 1.
  CHECK(r.stats.cycles >= 2 * 72);
}

TEST_CASE("without double buffering DMA waits grow, results stay the same", "[sim][cycles]") {
  std::mt19937_64 rng(9);
  pcnn::ConvGeometry g;
  g.in_channels = 256;
  g.out_channels = 128;
  g.in_h = g.in_w = 4;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "deep");
  job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
  pcnn::ArchConfig single;
  single.double_buffering = false;
  const auto a = pcnn::simulate_in_child({job}, pcnn::ArchConfig{}, {})[0];
  const auto b = pcnn::simulate_in_child({job}, single, {})[0];
  CHECK(a.output == b.output);
  CHECK(b.stats.stalls.dram > a.stats.stalls.dram);
  CHECK(b.stats.cycles > a.stats.cycles);
  CHECK(a.stats.mac_cycles == b.stats.mac_cycles);
  CHECK(a.stats.dram.bytes_read == b.stats.dram.bytes_read);
}
