// The fast mode (--timing lt) runs the PE group ahead of simulated time between
// DMA boundaries. It must report what the cycle-level mode reports: outputs,
// cycles, every stall reason, traffic and every module counter, for random
// layers (pattern-pruned and dense), every activation mode, and architectures
// whose DMA is fast, slow, double- or single-buffered, with single- or
// double-buffered kernel registers. The fast mode is exact
// in every mode, so the bound the comparison allows is zero.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "random_layer_jobs.hpp"

namespace {

std::vector<pcnn::LayerJob> random_jobs(std::mt19937_64& rng, int count) {
  pcnn::RandomSpecLimits limits;
  limits.max_channels = 80;
  limits.max_hw = 14;
  return pcnn_test::random_layer_jobs(rng, count, limits, 0.05);
}

void require_same(const std::vector<pcnn::LayerResult>& cycle,
                  const std::vector<pcnn::LayerResult>& lt) {
  REQUIRE(cycle.size() == lt.size());
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    INFO("layer " << i);
    CHECK(cycle[i].output == lt[i].output);
    CHECK(pcnn::stats_to_json(cycle[i].stats) == pcnn::stats_to_json(lt[i].stats));
    CHECK(cycle[i].module_stats == lt[i].module_stats);
  }
}

pcnn::ArchConfig random_small_arch(std::mt19937_64& rng) {
  pcnn::ArchConfig a;
  a.pe_count = 4 + static_cast<int>(pcnn::uniform_below(rng, 13));
  a.lanes_per_pe = 1 + static_cast<int>(pcnn::uniform_below(rng, 4));
  a.psum_entries_per_pe = 16 + static_cast<int>(pcnn::uniform_below(rng, 48));
  a.weight_sram = {static_cast<std::int64_t>(a.pe_count) * 60 * 4, 4, 2, 1};
  a.data_sram = {16 * 1024, 8, 2, 1 + static_cast<int>(pcnn::uniform_below(rng, 3))};
  a.double_buffering = pcnn::uniform_below(rng, 2) == 1;
  a.kernel_register_double_buffering = pcnn::uniform_below(rng, 2) == 1;
  a.dram.bandwidth_gbps = 0.2 + 20.0 * pcnn::uniform_unit(rng);
  return a;
}

}  // namespace

TEST_CASE("fast mode reports what the cycle-level mode reports", "[sim][lt]") {
  const auto seed =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("fast mode vs cycle-level, seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::vector<pcnn::LayerJob> jobs = random_jobs(rng, 8);
  const pcnn::ArchConfig small = random_small_arch(rng);
  // DRAM so slow that the pipeline waits for nearly every band and chunk.
  pcnn::ArchConfig slow_dram = random_small_arch(rng);
  slow_dram.dram.bandwidth_gbps = 0.05;
  for (const pcnn::ArchConfig& arch : {pcnn::ArchConfig{}, small, slow_dram})
    for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
      INFO("mode " << pcnn::to_string(mode) << " pe_count " << arch.pe_count << " lanes "
                   << arch.lanes_per_pe << " seed " << seed);
      pcnn::SimOptions cycle;
      cycle.act_mode = mode;
      pcnn::SimOptions lt = cycle;
      lt.timing = pcnn::Timing::lt;
      require_same(pcnn::simulate_in_child(jobs, arch, cycle),
                   pcnn::simulate_in_child(jobs, arch, lt));
    }
}

TEST_CASE("fast mode over the DRAM speeds at which passes wait for bands", "[sim][lt]") {
  // One output row per band: the pipeline alternates between computing and
  // waiting for input bands and free output buffers.
  std::mt19937_64 rng(9);
  pcnn::ConvGeometry g;
  g.in_channels = 20;
  g.out_channels = 12;
  g.in_h = g.in_w = 9;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  std::vector<pcnn::LayerJob> jobs(2);
  jobs[0].layer = pcnn::make_layer_with_geometry(g, 3, 8, true, rng, "rows");
  jobs[0].input = pcnn::random_activations(g.input_elements(), 0.7, true, rng);
  jobs[1].layer = pcnn::dense_equivalent(jobs[0].layer);
  jobs[1].input = jobs[0].input;
  pcnn::ArchConfig arch;
  arch.pe_count = 8;
  arch.lanes_per_pe = 2;
  arch.psum_entries_per_pe = 9;
  for (double gbps : {0.02, 0.1, 0.4, 1.6, 38.4})
    for (bool double_buffering : {false, true}) {
      INFO("DRAM " << gbps << " GB/s, double buffering " << double_buffering);
      arch.dram.bandwidth_gbps = gbps;
      arch.double_buffering = double_buffering;
      arch.kernel_register_double_buffering = !double_buffering;
      pcnn::SimOptions cycle;
      cycle.act_mode = pcnn::ActMode::skip;
      pcnn::SimOptions lt = cycle;
      lt.timing = pcnn::Timing::lt;
      require_same(pcnn::simulate_in_child(jobs, arch, cycle),
                   pcnn::simulate_in_child(jobs, arch, lt));
    }
}

TEST_CASE("fast mode refuses a VCD trace", "[sim][lt]") {
  std::mt19937_64 rng(4);
  const std::vector<pcnn::LayerJob> jobs = random_jobs(rng, 1);
  pcnn::SimOptions lt;
  lt.timing = pcnn::Timing::lt;
  lt.trace.vcd_path = "/tmp/pcnn_lt_refused.vcd";
  CHECK_THROWS_WITH(pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, lt),
                    Catch::Contains("--timing cycle"));
  CHECK(pcnn::parse_timing("lt") == pcnn::Timing::lt);
  CHECK(pcnn::parse_timing("cycle") == pcnn::Timing::cycle);
  CHECK_THROWS_WITH(pcnn::parse_timing("fast"), Catch::Contains("--timing"));
}
