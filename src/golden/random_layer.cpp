#include "pcnn/golden/random_layer.hpp"

#include <algorithm>
#include <cmath>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {

// Rejection sampling: accept only draws at or above 2^64 mod bound (so that
// the accepted ones cover whole multiples of bound). That threshold is below
// bound, so a draw >= bound is accepted without computing it (a division);
// the draws and the values are the same either way. bound > 0.
inline std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= bound || x >= (0 - bound) % bound) return x % bound;
  }
}

}  // namespace

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  if (bound == 0) throw Error("uniform_below", "empty range");
  return draw_below(rng, bound);
}

std::int64_t uniform_int(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  if (hi < lo) throw Error("uniform_int", "empty range");
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == ~std::uint64_t{0}) return static_cast<std::int64_t>(rng());
  return lo + static_cast<std::int64_t>(uniform_below(rng, span + 1));
}

double uniform_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);  // 53 bits / 2^53
}

namespace {

bool chance(std::mt19937_64& rng, double p) { return uniform_unit(rng) < p; }

std::int64_t binomial(int n, int k) {
  std::int64_t r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

int random_channels(std::mt19937_64& rng, int max_channels) {
  static const int kEdge[] = {1, 3, 63, 64, 65, 70};
  if (chance(rng, 0.35)) {
    const int c = kEdge[uniform_below(rng, sizeof(kEdge) / sizeof(kEdge[0]))];
    if (c <= max_channels) return c;
  }
  return static_cast<int>(uniform_int(rng, 1, max_channels));
}

// multiplier in [2^30, 2^31) and shift with multiplier / 2^(31 + shift) ~= scale.
Requant requant_for_scale(double scale) {
  int exponent = 0;
  const double mantissa = std::frexp(scale, &exponent);  // scale = mantissa * 2^exponent
  auto multiplier = static_cast<std::int64_t>(std::llround(mantissa * 2147483648.0));
  if (multiplier >= (std::int64_t{1} << 31)) {  // mantissa rounded up to 1.0
    multiplier /= 2;
    ++exponent;
  }
  Requant rq;
  rq.multiplier = static_cast<std::int32_t>(multiplier);
  rq.shift = std::clamp(-exponent, -31, 31);
  return rq;
}

// Defined after the layer makers.
void fill_weights_and_quantisation(SpmLayer& layer, std::mt19937_64& rng);

}  // namespace

RandomLayerSpec random_layer_spec(std::mt19937_64& rng, const RandomSpecLimits& limits) {
  if (limits.max_channels < 1 || limits.max_hw < 1)
    throw Error("random_layer_spec", "limits must be at least 1");
  RandomLayerSpec spec;
  ConvGeometry& g = spec.geom;
  g.kernel_h = g.kernel_w = 3;
  g.group = 1;
  g.in_channels = random_channels(rng, limits.max_channels);
  g.out_channels = random_channels(rng, limits.max_channels);
  g.stride_h = g.stride_w = chance(rng, 0.3) ? 2 : 1;
  // Padding: usually symmetric 0 or 1, sometimes each side independent.
  // Redraw until the padded input holds one 3x3 window in each direction.
  for (;;) {
    g.in_h = static_cast<int>(uniform_int(rng, 1, limits.max_hw));
    g.in_w = chance(rng, 0.5) ? g.in_h : static_cast<int>(uniform_int(rng, 1, limits.max_hw));
    if (chance(rng, 0.25)) {
      g.pad_top = static_cast<int>(uniform_below(rng, 2));
      g.pad_left = static_cast<int>(uniform_below(rng, 2));
      g.pad_bottom = static_cast<int>(uniform_below(rng, 2));
      g.pad_right = static_cast<int>(uniform_below(rng, 2));
    } else {
      const int p = static_cast<int>(uniform_below(rng, 2));
      g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = p;
    }
    if (g.in_h + g.pad_top + g.pad_bottom >= 3 && g.in_w + g.pad_left + g.pad_right >= 3) break;
  }
  spec.n = static_cast<int>(uniform_int(rng, 1, 9));
  const std::int64_t max_v = binomial(9, spec.n);
  // Favour small tables (as the paper's V = 8..32) but cover V == 1 and the full set.
  if (chance(rng, 0.15)) {
    spec.num_patterns = 1;
  } else if (chance(rng, 0.15)) {
    spec.num_patterns = static_cast<int>(max_v);
  } else {
    spec.num_patterns = static_cast<int>(uniform_int(rng, 1, std::min<std::int64_t>(max_v, 32)));
  }
  spec.relu = chance(rng, 0.6);
  return spec;
}

SpmLayer make_layer_with_geometry(const ConvGeometry& geom, int n, int num_patterns, bool relu,
                                  std::mt19937_64& rng, const std::string& name) {
  const std::string where = "layer '" + name + "'";
  const int K = geom.kernel_size();
  if (K < 1 || K > 16) throw Error(where, "random pattern layers need 1 <= K <= 16");
  if (n < 1 || n > K) throw Error(where, "n outside 1..K");
  if (geom.group < 1 || geom.in_channels % geom.group != 0)
    throw Error(where, "group does not divide the input channels");
  const std::int64_t max_v = binomial(K, n);
  if (num_patterns < 1 || num_patterns > max_v)
    throw Error(where, "pattern count outside 1..C(K, n)");

  SpmLayer layer;
  layer.name = name;
  layer.geom = geom;
  layer.pattern_pruned = true;
  layer.n = n;
  layer.relu = relu;

  // V distinct masks: a partial Fisher-Yates shuffle of every K-bit mask with n ones.
  std::vector<std::uint16_t> candidates;
  for (std::uint32_t m = 0; m < (1u << K); ++m)
    if (__builtin_popcount(m) == n) candidates.push_back(static_cast<std::uint16_t>(m));
  for (int i = 0; i < num_patterns; ++i) {
    const auto j = i + static_cast<std::size_t>(uniform_below(rng, candidates.size() - i));
    std::swap(candidates[i], candidates[j]);
  }
  layer.patterns.assign(candidates.begin(), candidates.begin() + num_patterns);

  const std::int64_t kernels = geom.kernel_count();
  layer.kernel_index.resize(static_cast<std::size_t>(kernels));
  for (auto& idx : layer.kernel_index)
    idx = static_cast<std::uint32_t>(uniform_below(rng, static_cast<std::uint64_t>(num_patterns)));
  fill_weights_and_quantisation(layer, rng);
  return layer;
}

SpmLayer make_dense_layer_with_geometry(const ConvGeometry& geom, bool relu, std::mt19937_64& rng,
                                        const std::string& name) {
  const std::string where = "layer '" + name + "'";
  if (geom.kernel_size() < 1) throw Error(where, "empty kernel");
  if (geom.group < 1 || geom.in_channels % geom.group != 0)
    throw Error(where, "group does not divide the input channels");
  SpmLayer layer;
  layer.name = name;
  layer.geom = geom;
  layer.pattern_pruned = false;
  layer.n = geom.kernel_size();
  layer.relu = relu;
  fill_weights_and_quantisation(layer, rng);
  return layer;
}

namespace {

// Stored values, scales, bias and requantisation of a layer whose shape, n and
// masks are set.
void fill_weights_and_quantisation(SpmLayer& layer, std::mt19937_64& rng) {
  const ConvGeometry& geom = layer.geom;
  const int n = layer.n;
  const std::int64_t kernels = geom.kernel_count();
  // Some layers keep a few zeros among the stored values (a trained weight can be 0).
  const double zero_fraction = chance(rng, 0.2) ? 0.1 : 0.0;
  layer.nonzeros.resize(static_cast<std::size_t>(kernels * n));
  for (auto& w : layer.nonzeros) {
    if (zero_fraction > 0 && chance(rng, zero_fraction)) {
      w = 0;
    } else {
      const auto v = static_cast<int>(uniform_int(rng, 1, 127));
      w = static_cast<std::int8_t>(chance(rng, 0.5) ? -v : v);
    }
  }

  // Expected accumulator spread with half-dense activations: each product has a
  // mean square of about (127^2 / 3)^2 (uniform weights and activations), and
  // there are Cg * n * 0.5 of them per output. Aim the output spread at ~45 LSB.
  const double mean_square = 127.0 * 127.0 / 3.0;
  const double products = static_cast<double>(geom.in_channels_per_group()) * n * 0.5;
  const double acc_sigma = mean_square * std::sqrt(std::max(products, 0.5));
  layer.input_scale = static_cast<float>(0.01 + 0.09 * uniform_unit(rng));
  layer.output_scale = static_cast<float>(0.01 + 0.09 * uniform_unit(rng));
  const auto M = static_cast<std::size_t>(geom.out_channels);
  layer.weight_scale.resize(M);
  layer.bias.resize(M);
  layer.requant.resize(M);
  for (std::size_t m = 0; m < M; ++m) {
    const double spread = 0.6 + 1.2 * uniform_unit(rng);  // per-channel variation
    const double scale = 45.0 * spread / acc_sigma;       // output LSB per accumulator unit
    layer.requant[m] = requant_for_scale(scale);
    // Keep the float scales consistent: input_scale * weight_scale / output_scale = scale.
    layer.weight_scale[m] =
        static_cast<float>(scale * layer.output_scale / layer.input_scale);
    const auto bias_limit = static_cast<std::int64_t>(acc_sigma * 0.5);
    layer.bias[m] = static_cast<std::int32_t>(uniform_int(rng, -bias_limit, bias_limit));
  }
  layer.validate();
}

}  // namespace

SpmLayer make_random_layer(const RandomLayerSpec& spec, std::mt19937_64& rng) {
  if (!spec.geom.pattern_prunable())
    throw Error("make_random_layer", "spec must be a 3x3, group-1 convolution");
  return make_layer_with_geometry(spec.geom, spec.n, spec.num_patterns, spec.relu, rng,
                                  "rand" + std::to_string(spec.index));
}

std::vector<std::int8_t> random_activations(std::int64_t count, double density,
                                            bool non_negative, std::mt19937_64& rng) {
  if (count < 0) throw Error("random_activations", "negative count");
  if (!(density >= 0.0 && density <= 1.0))
    throw Error("random_activations", "density must be in [0, 1]");
  std::vector<std::int8_t> out(static_cast<std::size_t>(count), 0);
  // Selection sampling: exactly `wanted` non-zeros, every subset equally likely.
  std::int64_t wanted = std::llround(density * static_cast<double>(count));
  for (std::int64_t i = 0; i < count && wanted > 0; ++i) {
    const auto remaining = static_cast<std::uint64_t>(count - i);
    // draw_below and 1 + draw_below(.., 127) are uniform_below and
    // uniform_int(rng, 1, 127), inlined here (the constant bound needs no division).
    if (draw_below(rng, remaining) >= static_cast<std::uint64_t>(wanted)) continue;
    --wanted;
    const auto v = static_cast<int>(1 + draw_below(rng, 127));
    out[static_cast<std::size_t>(i)] =
        static_cast<std::int8_t>(non_negative || chance(rng, 0.5) ? v : -v);
  }
  return out;
}

}  // namespace pcnn
