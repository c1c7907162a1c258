// Booking the clock edges in which only the MAC stage counts down at once must
// not change anything: outputs, cycles, stalls and every module counter equal
// those of evaluating every edge, for random layers, every mode, default and
// small tiled architectures, and around a VCD window.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "random_layer_jobs.hpp"

namespace {

std::vector<pcnn::LayerJob> random_jobs(std::mt19937_64& rng, int count) {
  pcnn::RandomSpecLimits limits;
  limits.max_channels = 70;
  limits.max_hw = 12;
  return pcnn_test::random_layer_jobs(rng, count, limits, 0.1);
}

void require_same(const std::vector<pcnn::LayerResult>& a, const std::vector<pcnn::LayerResult>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("layer " << i);
    CHECK(a[i].output == b[i].output);
    CHECK(pcnn::stats_to_json(a[i].stats) == pcnn::stats_to_json(b[i].stats));
    CHECK(a[i].module_stats == b[i].module_stats);
  }
}

}  // namespace

TEST_CASE("skipping idle MAC-stage edges changes no result or statistic", "[sim][skip]") {
  const auto seed = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("idle-edge skipping, seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::vector<pcnn::LayerJob> jobs = random_jobs(rng, 12);
  pcnn::ArchConfig small;
  small.pe_count = 8;
  small.lanes_per_pe = 1 + static_cast<int>(pcnn::uniform_below(rng, 4));
  small.psum_entries_per_pe = 20;
  small.weight_sram = {8 * 60 * 4, 4, 2, 1};
  small.data_sram = {16 * 1024, 8, 2, 2};
  small.double_buffering = pcnn::uniform_below(rng, 2) == 1;
  small.kernel_register_double_buffering = pcnn::uniform_below(rng, 2) == 1;
  // Slow DRAM and long steps: the next input band arrives while a step counts
  // down, so stage 1 starts loading in the middle of the skipped edges' span.
  pcnn::ArchConfig slow_dram = small;
  slow_dram.lanes_per_pe = 1;
  slow_dram.data_sram = {12 * 1024, 8, 2, 1};
  slow_dram.dram.bandwidth_gbps = 0.3;
  slow_dram.double_buffering = true;
  slow_dram.kernel_register_double_buffering = !small.kernel_register_double_buffering;
  for (const pcnn::ArchConfig& arch : {pcnn::ArchConfig{}, small, slow_dram})
    for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
      INFO("mode " << pcnn::to_string(mode) << " pe_count " << arch.pe_count << " seed " << seed);
      pcnn::SimOptions every_edge;
      every_edge.act_mode = mode;
      every_edge.skip_idle_edges = false;
      pcnn::SimOptions skipping = every_edge;
      skipping.skip_idle_edges = true;
      require_same(pcnn::simulate_in_child(jobs, arch, every_edge), pcnn::simulate_in_child(jobs, arch, skipping));
    }
}

TEST_CASE("idle-edge skipping with one-row bands over a range of DRAM speeds", "[sim][skip]") {
  // One output row per band and long dense steps (54 cycles on one lane): the
  // pipeline alternates between computing and waiting for input bands, so the
  // booked spans border on DMA waits and band hand-overs.
  std::mt19937_64 rng(5);
  pcnn::ConvGeometry g;
  g.in_channels = 12;
  g.out_channels = 8;
  g.in_h = g.in_w = 10;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  std::vector<pcnn::LayerJob> jobs(1);
  jobs[0].layer = pcnn::dense_equivalent(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "rows"));
  jobs[0].input = pcnn::random_activations(g.input_elements(), 0.8, true, rng);
  pcnn::ArchConfig arch;
  arch.pe_count = 8;
  arch.lanes_per_pe = 1;
  arch.psum_entries_per_pe = 10;
  for (double gbps : {0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6}) {
    INFO("DRAM " << gbps << " GB/s");
    arch.dram.bandwidth_gbps = gbps;
    pcnn::SimOptions every_edge;
    every_edge.skip_idle_edges = false;
    pcnn::SimOptions skipping;
    require_same(pcnn::simulate_in_child(jobs, arch, every_edge), pcnn::simulate_in_child(jobs, arch, skipping));
  }
}

TEST_CASE("a VCD window is the same with and without idle-edge skipping", "[sim][skip]") {
  std::mt19937_64 rng(77);
  const std::vector<pcnn::LayerJob> jobs = random_jobs(rng, 3);
  char tmpl[] = "/tmp/pcnn_skip_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::string text[2];
  for (int skip = 0; skip < 2; ++skip) {
    pcnn::SimOptions opt;
    opt.skip_idle_edges = skip == 1;
    opt.trace.vcd_path = dir + "/t" + std::to_string(skip) + ".vcd";
    opt.trace.from_cycle = 50;
    opt.trace.to_cycle = 400;
    pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, opt);
    std::FILE* f = std::fopen(opt.trace.vcd_path.c_str(), "rb");
    REQUIRE(f);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text[skip].append(buf, n);
    std::fclose(f);
    std::remove(opt.trace.vcd_path.c_str());
    const std::string stem = dir + "/t" + std::to_string(skip);
    std::remove((stem + ".gtkw").c_str());
    std::remove((stem + ".controller_state.filter").c_str());
  }
  std::remove(dir.c_str());
  // The header carries the date; compare from the first value change on.
  const auto body = [](const std::string& t) { return t.substr(t.find("$enddefinitions")); };
  CHECK(body(text[0]).size() > 1000);
  CHECK(body(text[0]) == body(text[1]));
}
