#include "pcnn/prune/pruner.hpp"

#include <algorithm>
#include <cmath>

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace {

void check_finite(const std::vector<float>& v, const FloatConv& conv, const char* what) {
  for (float x : v)
    if (!std::isfinite(x))
      throw Error("conv '" + conv.name + "'", std::string("non-finite value in its ") + what);
}

// Prunes one conv: fills the layer's patterns, indices and int8 non-zeros.
// Works kernel by kernel on BN-folded copies of 9 weights, so no folded copy
// of the whole layer is kept.
// `fixed`: a pattern table to use instead of distilling one (may be empty).
void prune_conv(const FloatConv& conv, const LayerSetting& setting, QuantGranularity quant,
                const std::vector<PatternMask>& fixed, SpmLayer& layer, LayerPruneStats& stats,
                std::vector<float>& pruned_raw, std::vector<float>& folded_bias) {
  const ConvGeometry& g = conv.geom;
  const int K = g.kernel_size();
  const std::int64_t kernels = g.kernel_count();
  const std::int64_t cg = g.in_channels_per_group();
  const auto M = static_cast<std::size_t>(g.out_channels);
  if (static_cast<std::int64_t>(conv.weights.size()) != kernels * K)
    throw Error("conv '" + conv.name + "'", "weight count does not match its shape");
  check_finite(conv.weights, conv, "weights");
  check_finite(conv.bias, conv, "bias");
  if (conv.has_batchnorm) {
    check_finite(conv.bn_scale, conv, "batch normalisation");
    check_finite(conv.bn_shift, conv, "batch normalisation");
  }

  // BN folding scales a whole output channel, so it keeps each kernel's top-n
  // set; masks are chosen on the folded weights the hardware will run.
  std::vector<float> channel_scale(M, 1.0f);
  folded_bias.assign(M, 0.0f);
  for (std::size_t m = 0; m < M; ++m) {
    const float b = m < conv.bias.size() ? conv.bias[m] : 0.0f;
    if (conv.has_batchnorm) {
      channel_scale[m] = conv.bn_scale[m];
      folded_bias[m] = b * conv.bn_scale[m] + conv.bn_shift[m];
    } else {
      folded_bias[m] = b;
    }
  }
  std::vector<float> f(static_cast<std::size_t>(K));  // one folded kernel
  auto fold = [&](std::int64_t k) {
    const float s = channel_scale[static_cast<std::size_t>(k / cg)];
    const float* w = conv.weights.data() + k * K;
    for (int p = 0; p < K; ++p) f[static_cast<std::size_t>(p)] = w[p] * s;
  };

  layer.pattern_pruned = setting.pattern_pruned;
  layer.n = setting.n;
  layer.patterns.clear();
  layer.kernel_index.clear();
  // Dense storage (spm_layer.hpp): all K values in position order, no pattern
  // table and no SPM indices.
  std::vector<PatternMask> masks;  // per kernel, pattern-pruned layers only
  if (setting.pattern_pruned) {
    // Algorithm 1: histogram of nearest patterns, keep the V most frequent.
    std::vector<std::int64_t> hist(std::size_t{1} << K, 0);
    for (std::int64_t k = 0; k < kernels; ++k) {
      fold(k);
      ++hist[nearest_pattern(f.data(), K, setting.n)];
    }
    stats.nearest.clear();
    for (std::size_t m = 0; m < hist.size(); ++m)
      if (hist[m] > 0) stats.nearest.push_back({static_cast<PatternMask>(m), hist[m]});
    std::stable_sort(
        stats.nearest.begin(), stats.nearest.end(),
        [](const PatternCount& a, const PatternCount& b) { return a.count > b.count; });
    if (!fixed.empty())
      layer.patterns = fixed;
    else
      for (const PatternCount& p : select_patterns(stats.nearest, K, setting.n, setting.patterns))
        layer.patterns.push_back(p.mask);
    stats.assigned.assign(layer.patterns.size(), 0);
    layer.kernel_index.resize(static_cast<std::size_t>(kernels));
    masks.resize(static_cast<std::size_t>(kernels));
  }

  // Projection, projection error and weight ranges.
  // Filled in order with push_back: every element is written once.
  pruned_raw.clear();
  pruned_raw.reserve(conv.weights.size());
  std::vector<float> absmax(M, 0.0f);
  stats.weight_energy = 0.0;
  stats.removed_energy = 0.0;
  const std::uint32_t all = K < 32 ? (1u << K) - 1u : 0xffffffffu;
  for (std::int64_t k = 0; k < kernels; ++k) {
    fold(k);
    std::uint32_t mask = all;
    if (setting.pattern_pruned) {
      const int idx = project_kernel(f.data(), K, layer.patterns);
      layer.kernel_index[static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(idx);
      mask = layer.patterns[static_cast<std::size_t>(idx)];
      masks[static_cast<std::size_t>(k)] = static_cast<PatternMask>(mask);
      ++stats.assigned[static_cast<std::size_t>(idx)];
    }
    float& amax = absmax[static_cast<std::size_t>(k / cg)];
    for (int p = 0; p < K; ++p) {
      const double e =
          static_cast<double>(f[static_cast<std::size_t>(p)]) * f[static_cast<std::size_t>(p)];
      stats.weight_energy += e;
      if (p >= 32 || ((mask >> p) & 1u)) {
        pruned_raw.push_back(conv.weights[static_cast<std::size_t>(k * K + p)]);
        amax = std::max(amax, std::fabs(f[static_cast<std::size_t>(p)]));
      } else {
        pruned_raw.push_back(0.0f);
        stats.removed_energy += e;
      }
    }
  }

  // int8 weights.
  if (quant == QuantGranularity::kPerLayer) {
    const float layer_max = *std::max_element(absmax.begin(), absmax.end());
    std::fill(absmax.begin(), absmax.end(), layer_max);
  }
  layer.weight_scale.resize(M);
  for (std::size_t m = 0; m < M; ++m) layer.weight_scale[m] = symmetric_scale(absmax[m]);
  layer.nonzeros.resize(static_cast<std::size_t>(kernels * setting.n));
  std::size_t out = 0;
  for (std::int64_t k = 0; k < kernels; ++k) {
    fold(k);
    const float scale = layer.weight_scale[static_cast<std::size_t>(k / cg)];
    const std::uint32_t mask = setting.pattern_pruned ? masks[static_cast<std::size_t>(k)] : all;
    for (int p = 0; p < K; ++p)
      if (p >= 32 || ((mask >> p) & 1u))
        layer.nonzeros[out++] = quantise_weight(f[static_cast<std::size_t>(p)], scale);
  }
}

}  // namespace

double LayerPruneStats::projection_error() const {
  return weight_energy > 0.0 ? std::sqrt(removed_energy / weight_energy) : 0.0;
}

std::vector<ConvActivationRange> unit_activation_ranges(std::size_t convs) {
  ConvActivationRange unit;
  unit.input_absmax = 1.0f;
  unit.output_absmax = 1.0f;
  return std::vector<ConvActivationRange>(convs, unit);
}

PrunedModel prune_convs(const std::vector<FloatConv>& convs,
                        const std::vector<LayerSetting>& settings, QuantGranularity quant,
                        const std::vector<std::vector<PatternMask>>& fixed_tables) {
  if (settings.size() != convs.size()) throw Error("prune_convs", "one setting per conv needed");
  if (!fixed_tables.empty() && fixed_tables.size() != convs.size())
    throw Error("prune_convs", "one pattern table per conv needed");
  const std::vector<PatternMask> none;
  PrunedModel pm;
  pm.settings = settings;
  pm.images.layers.resize(convs.size());
  pm.stats.resize(convs.size());
  pm.pruned_weights.resize(convs.size());
  pm.folded_bias.resize(convs.size());
  for (std::size_t l = 0; l < convs.size(); ++l) {
    SpmLayer& layer = pm.images.layers[l];
    layer.name = convs[l].name;
    layer.index = convs[l].index;
    layer.geom = convs[l].geom;
    layer.relu = convs[l].relu_follows;
    prune_conv(convs[l], settings[l], quant, fixed_tables.empty() ? none : fixed_tables[l], layer,
               pm.stats[l], pm.pruned_weights[l], pm.folded_bias[l]);
  }
  apply_activation_ranges(pm, convs, unit_activation_ranges(convs.size()));
  return pm;
}

void apply_activation_ranges(PrunedModel& pm, const std::vector<FloatConv>& convs,
                             const std::vector<ConvActivationRange>& ranges) {
  if (ranges.size() != pm.images.layers.size())
    throw Error("calibration", "returned " + std::to_string(ranges.size()) + " ranges for " +
                                   std::to_string(pm.images.layers.size()) + " convs");
  for (std::size_t l = 0; l < pm.images.layers.size(); ++l) {
    SpmLayer& layer = pm.images.layers[l];
    const ConvActivationRange& r = ranges[l];
    if (!std::isfinite(r.input_absmax) || !std::isfinite(r.output_absmax))
      throw Error("calibration", "non-finite activation range at conv '" + convs[l].name + "'");
    layer.input_scale = symmetric_scale(r.input_absmax);
    layer.output_scale = symmetric_scale(r.output_absmax);
    const std::size_t M = layer.weight_scale.size();
    layer.bias.resize(M);
    layer.requant.resize(M);
    for (std::size_t m = 0; m < M; ++m) {
      layer.bias[m] = quantise_bias(pm.folded_bias[l][m], layer.input_scale, layer.weight_scale[m]);
      const double real = static_cast<double>(layer.input_scale) * layer.weight_scale[m] /
                          static_cast<double>(layer.output_scale);
      try {
        layer.requant[m] = requant_from_real(real);
      } catch (const Error& e) {
        throw Error("conv '" + convs[l].name + "'", e.what());
      }
    }
    layer.validate();
  }
}

}  // namespace pcnn
