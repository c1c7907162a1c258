// Randomized bit-exact comparison of the accelerator model against the golden
// integer convolution: many random shapes, n, V, densities, all activation
// modes, default and deliberately small architectures (tiling through DRAM).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

std::uint64_t test_seed() {
  const char* env = std::getenv("PCNN_TEST_SEED");
  if (env) return std::strtoull(env, nullptr, 10);
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// A small architecture that forces bands, tiles, several chunks and single
// buffering paths on small layers.
pcnn::ArchConfig small_arch(std::mt19937_64& rng) {
  pcnn::ArchConfig a;
  a.pe_count = 8 + static_cast<int>(pcnn::uniform_below(rng, 3)) * 12;  // 8, 20, 32
  a.lanes_per_pe = 1 + static_cast<int>(pcnn::uniform_below(rng, 4));
  a.kernel_register_words = 18 + static_cast<int>(pcnn::uniform_below(rng, 3)) * 21;  // 18, 39, 60
  a.psum_entries_per_pe = 20;
  a.weight_sram = {static_cast<std::int64_t>(a.pe_count) * a.kernel_register_words * 4, 4, 2, 1};
  a.pattern_sram = {4096, 4, 1, 2};  // 2 KB per buffer: 32 PEs x 60 indices x 7 bits fit
  a.data_sram = {24 * 1024, 8, 2, 1};
  a.double_buffering = pcnn::uniform_below(rng, 2) == 1;
  return a;
}

// -128 is the one int8 value without a positive twin (its product with -128
// is the largest); the generators draw from [-127, 127], so some weights and
// (signed) activations are set to it here.
void draw_minimum_values(std::vector<std::int8_t>& values, std::mt19937_64& rng) {
  for (std::int8_t& v : values)
    if (v != 0 && pcnn::uniform_below(rng, 16) == 0) v = -128;
}

void run_random_batch(bool small, pcnn::ActMode mode, int layers, std::uint64_t seed) {
  std::printf("bit-exact %s arch, mode %s, seed %llu (set PCNN_TEST_SEED to repeat)\n",
              small ? "small" : "default", pcnn::to_string(mode),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  pcnn::ArchConfig arch = small ? small_arch(rng) : pcnn::ArchConfig{};
  std::vector<pcnn::LayerJob> jobs;
  pcnn::RandomSpecLimits limits;
  limits.max_channels = small ? 40 : 80;
  limits.max_hw = small ? 11 : 17;
  for (int i = 0; i < layers; ++i) {
    pcnn::RandomLayerSpec spec = pcnn::random_layer_spec(rng, limits);
    spec.index = i;
    pcnn::LayerJob job;
    job.layer = pcnn::make_random_layer(spec, rng);
    draw_minimum_values(job.layer.nonzeros, rng);
    if (pcnn::uniform_below(rng, 4) == 0) job.layer = pcnn::dense_equivalent(job.layer);
    const double densities[] = {1.0, 0.6, 0.3, 0.05, 0.0};
    const double d = densities[pcnn::uniform_below(rng, 5)];
    const bool after_relu = pcnn::uniform_below(rng, 2) == 1;
    job.input = pcnn::random_activations(job.layer.geom.input_elements(), d, after_relu, rng);
    if (!after_relu) draw_minimum_values(job.input, rng);
    jobs.push_back(std::move(job));
  }
  pcnn::SimOptions opt;
  opt.act_mode = mode;
  const std::vector<pcnn::LayerResult> results = pcnn::simulate_in_child(jobs, arch, opt);
  REQUIRE(results.size() == jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const pcnn::SpmLayer& l = jobs[i].layer;
    INFO("layer " << i << ": C=" << l.geom.in_channels << " M=" << l.geom.out_channels
                  << " H=" << l.geom.in_h << " W=" << l.geom.in_w << " stride=" << l.geom.stride_h
                  << " pad=" << l.geom.pad_top << l.geom.pad_left << l.geom.pad_bottom
                  << l.geom.pad_right << " n=" << l.n << " V=" << l.num_patterns()
                  << " pattern_pruned=" << l.pattern_pruned << " seed=" << seed);
    const std::vector<std::int8_t> golden = pcnn::golden_conv_layer(l, jobs[i].input);
    REQUIRE(results[i].output == golden);
    const pcnn::LayerStats& s = results[i].stats;
    CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
    CHECK(s.macs_effectual <= s.macs_issued);
  }
}

}  // namespace

TEST_CASE("random layers are bit-exact, default architecture, mode off", "[sim][bitexact]") {
  run_random_batch(false, pcnn::ActMode::off, 40, test_seed());
}
TEST_CASE("random layers are bit-exact, default architecture, mode gate", "[sim][bitexact]") {
  run_random_batch(false, pcnn::ActMode::gate, 40, test_seed());
}
TEST_CASE("random layers are bit-exact, default architecture, mode skip", "[sim][bitexact]") {
  run_random_batch(false, pcnn::ActMode::skip, 40, test_seed());
}
TEST_CASE("random layers are bit-exact on small tiled architectures", "[sim][bitexact]") {
  const std::uint64_t seed = test_seed();
  for (int k = 0; k < 12; ++k) {
    const pcnn::ActMode modes[] = {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip};
    run_random_batch(true, modes[k % 3], 12, seed + static_cast<std::uint64_t>(k));
  }
}

TEST_CASE("other kernel shapes are bit-exact: 1x1, 1x3, 4x4, dilation 2", "[sim][bitexact]") {
  const std::uint64_t seed = test_seed();
  std::printf("kernel shapes, seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  struct Shape {
    int kh, kw, stride, pad, dilation, n, patterns;
  };
  const Shape shapes[] = {{1, 1, 2, 0, 1, 1, 1},  {1, 3, 1, 1, 1, 2, 3}, {4, 4, 1, 2, 1, 5, 12},
                          {3, 3, 1, 2, 2, 4, 16}, {3, 3, 2, 1, 2, 9, 1}, {2, 3, 2, 0, 1, 4, 5}};
  std::vector<pcnn::LayerJob> jobs;
  int i = 0;
  for (const Shape& s : shapes) {
    pcnn::ConvGeometry g;
    g.in_channels = 1 + static_cast<int>(pcnn::uniform_below(rng, 70));
    g.out_channels = 1 + static_cast<int>(pcnn::uniform_below(rng, 70));
    g.in_h = 5 + static_cast<int>(pcnn::uniform_below(rng, 9));
    g.in_w = 5 + static_cast<int>(pcnn::uniform_below(rng, 9));
    g.kernel_h = s.kh;
    g.kernel_w = s.kw;
    g.stride_h = g.stride_w = s.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = s.pad;
    g.dilation_h = g.dilation_w = s.dilation;
    pcnn::LayerJob job;
    job.layer = pcnn::make_layer_with_geometry(g, s.n, s.patterns, (i & 1) != 0, rng,
                                               "shape" + std::to_string(i));
    job.input = pcnn::random_activations(g.input_elements(), 0.4, false, rng);
    jobs.push_back(job);
    job.layer = pcnn::dense_equivalent(job.layer);
    jobs.push_back(job);
    ++i;
  }
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    pcnn::SimOptions opt;
    opt.act_mode = mode;
    const auto results = pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, opt);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      INFO("job " << k << " mode " << pcnn::to_string(mode) << " seed " << seed);
      REQUIRE(results[k].output == pcnn::golden_conv_layer(jobs[k].layer, jobs[k].input));
    }
  }
}
