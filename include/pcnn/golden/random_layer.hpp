#pragma once
// Seeded random layers and activations for the randomized bit-exact tests and the
// benchmarks. Every draw maps raw std::mt19937_64 outputs by hand (no standard
// distributions, whose results differ between standard libraries), so a printed
// seed reproduces the same layer on any platform.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "pcnn/core/conv_geometry.hpp"
#include "pcnn/image/spm_layer.hpp"

namespace pcnn {

struct RandomLayerSpec {
  ConvGeometry geom;      // kernel 3x3, group 1
  int n = 4;              // non-zeros per kernel, 1..9
  int num_patterns = 8;   // V, 1..C(9, n)
  bool relu = true;
  int index = 0;          // layer position; the layer is named "rand<index>"
};

struct RandomSpecLimits {
  int max_channels = 80;  // C and M drawn from 1..max_channels
  int max_hw = 17;        // H and W drawn from 1..max_hw
};

// A random 3x3, group-1 spec: C and M in 1..max_channels (with extra weight on
// edge values such as 1, 3, 63, 64, 65, 70), H and W in 1..max_hw (odd and even,
// output never empty), stride 1 or 2, padding 0 or 1 per side (sometimes
// asymmetric), n in 1..9, V in 1..C(9, n), relu on or off.
RandomLayerSpec random_layer_spec(std::mt19937_64& rng, const RandomSpecLimits& limits = {});

// A valid pattern-pruned SpmLayer for the spec: V distinct masks with n ones,
// random kernel indices, int8 weights in [-127, 127] (non-zero, except that some
// layers also get zeros), plausible scales, a modest random bias, and a
// requantisation per output channel scaled to the accumulator's expected spread
// so that outputs cover the int8 range. Passes SpmLayer::validate().
SpmLayer make_random_layer(const RandomLayerSpec& spec, std::mt19937_64& rng);

// The same for a fixed geometry (e.g. VGG-shaped layers). The kernel may be any
// size with kernel_h * kernel_w <= 16; n in 1..K; num_patterns in 1..C(K, n).
SpmLayer make_layer_with_geometry(const ConvGeometry& geom, int n, int num_patterns, bool relu,
                                  std::mt19937_64& rng, const std::string& name);

// A dense layer (n = K, no pattern table) of any kernel size and group count,
// with the same value and scale distributions.
SpmLayer make_dense_layer_with_geometry(const ConvGeometry& geom, bool relu, std::mt19937_64& rng,
                                        const std::string& name);

// count int8 activations of which round(density * count) are non-zero, at
// uniformly random positions. Non-zeros are uniform in [-127, 127] \ {0}, or in
// [1, 127] when non_negative (as after a ReLU). density must be in [0, 1].
std::vector<std::int8_t> random_activations(std::int64_t count, double density,
                                            bool non_negative, std::mt19937_64& rng);

// Portable draws used above, exposed for tests and benchmarks.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound);          // [0, bound)
std::int64_t uniform_int(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi);  // [lo, hi]
double uniform_unit(std::mt19937_64& rng);                                         // [0, 1)

}  // namespace pcnn
