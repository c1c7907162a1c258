// VGG-16-CIFAR conv stack: speedup of pattern-pruned layers over the same
// array running them dense (mode off) lands within 10% of the paper's
// 2.3x / 3.1x / 4.5x / 9.0x (spec section 5).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/workloads.hpp"

namespace {

double vgg_speedup(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<pcnn::LayerJob> jobs;
  int index = 0;
  for (const pcnn::ConvGeometry& g : pcnn::vgg16_cifar_conv_shapes()) {
    pcnn::LayerJob sparse;
    // 16 patterns as in the paper, or all C(9, n) when fewer exist.
    const int patterns = n == 1 ? 9 : 16;
    sparse.layer = pcnn::make_layer_with_geometry(g, n, patterns, true, rng,
                                                  "conv" + std::to_string(index++));
    sparse.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
    pcnn::LayerJob dense;
    dense.layer = pcnn::dense_equivalent(sparse.layer);
    dense.input = sparse.input;
    jobs.push_back(std::move(sparse));
    jobs.push_back(std::move(dense));
  }
  const auto results = pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, {});
  std::uint64_t sparse_cycles = 0, dense_cycles = 0;
  for (std::size_t i = 0; i < results.size(); i += 2) {
    sparse_cycles += results[i].stats.cycles;
    dense_cycles += results[i + 1].stats.cycles;
    CHECK(results[i].output == results[i + 1].output);  // dense twin is bit-identical
  }
  const double speedup = static_cast<double>(dense_cycles) / static_cast<double>(sparse_cycles);
  std::printf("VGG-16-CIFAR n=%d: %llu cycles, dense %llu cycles, speedup %.2fx\n", n,
              static_cast<unsigned long long>(sparse_cycles),
              static_cast<unsigned long long>(dense_cycles), speedup);
  return speedup;
}

}  // namespace

TEST_CASE("VGG-16-CIFAR speedup against dense, n = 4 and 3", "[sim][speedup]") {
  CHECK(vgg_speedup(4, 11) == Approx(2.3).epsilon(0.10));
  CHECK(vgg_speedup(3, 12) == Approx(3.1).epsilon(0.10));
}

TEST_CASE("VGG-16-CIFAR speedup against dense, n = 2 and 1", "[sim][speedup]") {
  CHECK(vgg_speedup(2, 13) == Approx(4.5).epsilon(0.10));
  CHECK(vgg_speedup(1, 14) == Approx(9.0).epsilon(0.10));
}
