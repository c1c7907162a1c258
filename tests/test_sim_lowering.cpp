// Layers the datapath cannot run as they are (grouped convolutions, kernels of
// more than 16 positions) are lowered by the host into passes; the outputs must
// still equal the golden convolution bit for bit, and the statistics must be
// the sums over the passes.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/layer_lowering.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

std::uint64_t lowering_seed() {
  const char* env = std::getenv("PCNN_TEST_SEED");
  if (env) return std::strtoull(env, nullptr, 10);
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

struct Shape {
  int kh, kw, stride, pad, dilation, group;
};

pcnn::LayerJob random_job(const Shape& s, int index, std::mt19937_64& rng, bool pattern) {
  pcnn::ConvGeometry g;
  const int per_group_in = 1 + static_cast<int>(pcnn::uniform_below(rng, 9));
  const int per_group_out = 1 + static_cast<int>(pcnn::uniform_below(rng, 40));
  g.in_channels = per_group_in * s.group;
  g.out_channels = per_group_out * s.group;
  g.kernel_h = s.kh;
  g.kernel_w = s.kw;
  g.stride_h = g.stride_w = s.stride;
  g.dilation_h = g.dilation_w = s.dilation;
  g.pad_top = g.pad_left = s.pad;
  g.pad_bottom = s.pad + static_cast<int>(pcnn::uniform_below(rng, 2));  // sometimes asymmetric
  g.pad_right = s.pad;
  g.group = s.group;
  const int reach = s.dilation * (s.kh - 1) + 1;
  g.in_h = std::max(1, reach - 2 * s.pad) + static_cast<int>(pcnn::uniform_below(rng, 12));
  g.in_w = std::max(1, s.dilation * (s.kw - 1) + 1 - 2 * s.pad) +
           static_cast<int>(pcnn::uniform_below(rng, 12));
  const bool relu = pcnn::uniform_below(rng, 2) == 1;
  const std::string name = "shape" + std::to_string(index);
  pcnn::LayerJob job;
  job.layer = pattern ? pcnn::make_layer_with_geometry(g, 1 + static_cast<int>(pcnn::uniform_below(rng, 9)),
                                                        1, relu, rng, name)
                      : pcnn::make_dense_layer_with_geometry(g, relu, rng, name);
  const double densities[] = {1.0, 0.5, 0.1};
  job.input = pcnn::random_activations(g.input_elements(), densities[pcnn::uniform_below(rng, 3)],
                                       relu, rng);
  return job;
}

}  // namespace

TEST_CASE("grouped and large-kernel layers are lowered and stay bit-exact", "[sim][lowering]") {
  const std::uint64_t seed = lowering_seed();
  std::printf("lowering, seed %llu (set PCNN_TEST_SEED to repeat)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const Shape shapes[] = {
      {7, 7, 2, 3, 1, 1},   // ResNet stem
      {5, 5, 1, 2, 1, 1},   // 25 positions: 2 rows of 5 per sub-kernel
      {1, 17, 1, 0, 1, 1},  // wider than 16: split into columns as well
      {11, 11, 4, 2, 1, 1}, // AlexNet-like
      {5, 5, 1, 4, 2, 1},   // dilation 2 with large padding
      {3, 3, 1, 1, 1, 2},   // grouped 3x3
      {3, 3, 2, 1, 1, 4},   // grouped, stride 2
      {1, 1, 1, 0, 1, 3},   // grouped 1x1
      {7, 7, 1, 3, 1, 2},   // grouped and large
  };
  std::vector<pcnn::LayerJob> jobs;
  int i = 0;
  for (const Shape& s : shapes) jobs.push_back(random_job(s, i++, rng, false));
  // A pattern-pruned grouped 3x3 layer (e.g. built by hand) is lowered too.
  jobs.push_back(random_job({3, 3, 1, 1, 1, 3}, i++, rng, true));
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    pcnn::SimOptions opt;
    opt.act_mode = mode;
    const auto results = pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, opt);
    REQUIRE(results.size() == jobs.size());
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      const pcnn::ConvGeometry& g = jobs[k].layer.geom;
      INFO("job " << k << " " << g.kernel_h << "x" << g.kernel_w << " group " << g.group << " C="
                  << g.in_channels << " M=" << g.out_channels << " H=" << g.in_h << " W=" << g.in_w
                  << " mode " << pcnn::to_string(mode) << " seed " << seed);
      REQUIRE(results[k].output == pcnn::golden_conv_layer(jobs[k].layer, jobs[k].input));
      const pcnn::LayerStats& s = results[k].stats;
      CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
      CHECK_FALSE(s.lowering.empty());
      CHECK(s.passes == static_cast<int>(pcnn::lower_for_accelerator(jobs[k]).passes.size()));
    }
  }
}

TEST_CASE("lowered layers on a small tiled architecture stay bit-exact", "[sim][lowering]") {
  const std::uint64_t seed = lowering_seed();
  std::printf("lowering small arch, seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  pcnn::ArchConfig a;
  a.pe_count = 8;
  a.lanes_per_pe = 2;
  a.kernel_register_words = 30;
  a.psum_entries_per_pe = 20;
  a.weight_sram = {8 * 30 * 4, 4, 2, 1};
  a.data_sram = {8 * 1024, 8, 2, 1};
  std::vector<pcnn::LayerJob> jobs;
  jobs.push_back(random_job({7, 7, 2, 3, 1, 1}, 0, rng, false));
  jobs.push_back(random_job({3, 3, 1, 1, 1, 2}, 1, rng, false));
  const auto results = pcnn::simulate_in_child(jobs, a);
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    INFO("job " << k << " seed " << seed);
    REQUIRE(results[k].output == pcnn::golden_conv_layer(jobs[k].layer, jobs[k].input));
  }
}

TEST_CASE("a 7x7 stem is cut into 2x7 sub-kernels over four shifted input copies",
          "[sim][lowering]") {
  std::mt19937_64 rng(7);
  pcnn::ConvGeometry g;
  g.in_channels = 3;
  g.out_channels = 5;
  g.in_h = g.in_w = 12;
  g.kernel_h = g.kernel_w = 7;
  g.stride_h = g.stride_w = 2;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 3;
  pcnn::LayerJob job;
  job.layer = pcnn::make_dense_layer_with_geometry(g, true, rng, "stem");
  job.input = pcnn::random_activations(g.input_elements(), 1.0, true, rng);
  const pcnn::LoweredLayer lowered = pcnn::lower_for_accelerator(job);
  REQUIRE(lowered.passes.size() == 1);
  const pcnn::SpmLayer& l = lowered.passes[0].layer;
  // Rows 0-1, 2-3, 4-5 and 6 (plus a zero row): 4 copies of 3 channels.
  CHECK(l.geom.in_channels == 12);
  CHECK(l.geom.kernel_h == 2);
  CHECK(l.geom.kernel_w == 7);
  CHECK(l.n == 14);
  CHECK(l.geom.pad_top == 0);
  CHECK(l.geom.out_h() == g.out_h());  // 6
  CHECK(l.geom.out_w() == g.out_w());
  // Just the rows the outputs read: (6 - 1) * 2 + 2 = 12; columns (6 - 1) * 2 + 7 = 17.
  CHECK(l.geom.in_h == 12);
  CHECK(l.geom.in_w == 17);
  CHECK(lowered.description == "7x7 kernel as 4 2x7 sub-kernels over 4 shifted input copies");
  // Copy 1 (rows shifted by 2) of channel 0 at (0, 3) is the original (2 - 3, 3 - 3) = (-1, 0):
  // padding. Copy 2 at (1, 3) is the original (1 + 4 - 3, 0) = (2, 0).
  const auto at = [&](int copy, int c, int y, int x) {
    return lowered.passes[0].input[((copy * 3 + c) * 12 + y) * 17 + x];
  };
  CHECK(at(1, 0, 0, 3) == 0);
  CHECK(at(2, 0, 1, 3) == job.input[(0 * 12 + 2) * 12 + 0]);
  CHECK(at(0, 2, 3, 4) == job.input[(2 * 12 + 0) * 12 + 1]);
  // The last copy's second kernel row is zero: the 7x7 kernel has no row 7.
  const std::vector<std::int8_t> w = l.dense_weights();
  for (int m = 0; m < 5; ++m)
    for (int c = 9; c < 12; ++c)
      for (int x = 0; x < 7; ++x) CHECK(w[(m * 12 + c) * 14 + 7 + x] == 0);
}

TEST_CASE("statistics of a lowered layer are the sums of its passes", "[sim][lowering]") {
  std::mt19937_64 rng(11);
  pcnn::LayerJob job = random_job({3, 3, 1, 1, 1, 4}, 0, rng, false);
  const pcnn::LoweredLayer lowered = pcnn::lower_for_accelerator(job);
  REQUIRE(lowered.passes.size() == 4);
  CHECK(lowered.description == "4 groups as separate passes");
  const auto whole = pcnn::simulate_in_child({job}, pcnn::ArchConfig{});
  const auto parts = pcnn::simulate_in_child(lowered.passes, pcnn::ArchConfig{});
  std::uint64_t cycles = 0, macs = 0, dram_read = 0, refills = 0;
  std::vector<std::int8_t> output;
  for (const auto& p : parts) {
    cycles += p.stats.cycles;
    macs += p.stats.macs_issued;
    dram_read += p.stats.dram.bytes_read;
    refills += p.stats.refills;
    output.insert(output.end(), p.output.begin(), p.output.end());
  }
  const pcnn::LayerStats& s = whole[0].stats;
  CHECK(s.passes == 4);
  CHECK(s.cycles == cycles);
  CHECK(s.macs_issued == macs);
  CHECK(s.dram.bytes_read == dram_read);
  CHECK(s.refills == refills);
  CHECK(whole[0].output == output);
  // Dense, mode off: every weight of every group is one MAC per output.
  CHECK(s.macs_issued == static_cast<std::uint64_t>(job.layer.geom.dense_macs()));
  CHECK(whole[0].module_stats["top.pe_group"]["macs_issued"].get<std::uint64_t>() == macs);
}

TEST_CASE("layers that need no lowering pass through unchanged", "[sim][lowering]") {
  std::mt19937_64 rng(3);
  pcnn::LayerJob job = random_job({3, 3, 1, 1, 1, 1}, 0, rng, true);
  CHECK_FALSE(pcnn::needs_lowering(job.layer));
  const pcnn::LoweredLayer lowered = pcnn::lower_for_accelerator(job);
  REQUIRE(lowered.passes.size() == 1);
  CHECK(lowered.description.empty());
  CHECK(lowered.passes[0].input == job.input);
  CHECK(lowered.passes[0].layer.nonzeros == job.layer.nonzeros);
  const auto r = pcnn::simulate_in_child({job}, pcnn::ArchConfig{});
  CHECK(r[0].stats.passes == 1);
  CHECK(r[0].stats.lowering.empty());
  job.input.pop_back();
  CHECK_THROWS_AS(pcnn::lower_for_accelerator(job), pcnn::Error);
}
