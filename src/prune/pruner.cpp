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
void prune_conv(const FloatConv& conv, const LayerSetting& setting, QuantGranularity quant,
                SpmLayer& layer, LayerPruneStats& stats, std::vector<float>& pruned_raw,
                std::vector<float>& folded_bias) {
  const ConvGeometry& g = conv.geom;
  const int K = g.kernel_size();
  const std::int64_t kernels = g.kernel_count();
  const std::int64_t per_channel = static_cast<std::int64_t>(g.in_channels_per_group()) * K;
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
  std::vector<float> folded(conv.weights);
  folded_bias.assign(M, 0.0f);
  for (std::size_t m = 0; m < M; ++m) {
    const float s = conv.has_batchnorm ? conv.bn_scale[m] : 1.0f;
    const float b = m < conv.bias.size() ? conv.bias[m] : 0.0f;
    folded_bias[m] = conv.has_batchnorm ? b * s + conv.bn_shift[m] : b;
    if (conv.has_batchnorm)
      for (std::int64_t i = 0; i < per_channel; ++i)
        folded[static_cast<std::size_t>(m * per_channel + i)] *= s;
  }

  layer.pattern_pruned = setting.pattern_pruned;
  layer.n = setting.n;
  pruned_raw.assign(conv.weights.size(), 0.0f);
  std::vector<PatternMask> masks;  // per kernel
  if (setting.pattern_pruned) {
    stats.nearest = count_nearest_patterns(folded.data(), kernels, K, setting.n);
    const std::vector<PatternCount> kept = select_patterns(stats.nearest, K, setting.n, setting.patterns);
    layer.patterns.clear();
    for (const PatternCount& p : kept) layer.patterns.push_back(p.mask);
    stats.assigned.assign(kept.size(), 0);
    layer.kernel_index.resize(static_cast<std::size_t>(kernels));
    masks.resize(static_cast<std::size_t>(kernels));
    for (std::int64_t k = 0; k < kernels; ++k) {
      const int idx = project_kernel(folded.data() + k * K, K, layer.patterns);
      layer.kernel_index[static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(idx);
      masks[static_cast<std::size_t>(k)] = layer.patterns[static_cast<std::size_t>(idx)];
      ++stats.assigned[static_cast<std::size_t>(idx)];
    }
  } else {
    // Dense storage (spm_layer.hpp): all K values in position order, no
    // pattern table and no SPM indices.
    layer.patterns.clear();
    layer.kernel_index.clear();
  }

  // Apply the masks, measure the projection error, find the weight scales.
  std::vector<float> absmax(M, 0.0f);
  stats.weight_energy = 0.0;
  stats.removed_energy = 0.0;
  for (std::int64_t k = 0; k < kernels; ++k) {
    const std::size_t m = static_cast<std::size_t>(k / g.in_channels_per_group());
    for (int p = 0; p < K; ++p) {
      const std::size_t i = static_cast<std::size_t>(k * K + p);
      const double e = static_cast<double>(folded[i]) * folded[i];
      stats.weight_energy += e;
      const bool keep = !setting.pattern_pruned || ((masks[static_cast<std::size_t>(k)] >> p) & 1u);
      if (keep) {
        pruned_raw[i] = conv.weights[i];
        absmax[m] = std::max(absmax[m], std::fabs(folded[i]));
      } else {
        stats.removed_energy += e;
      }
    }
  }
  if (quant == QuantGranularity::kPerLayer) {
    const float layer_max = *std::max_element(absmax.begin(), absmax.end());
    std::fill(absmax.begin(), absmax.end(), layer_max);
  }
  layer.weight_scale.resize(M);
  for (std::size_t m = 0; m < M; ++m) layer.weight_scale[m] = symmetric_scale(absmax[m]);

  layer.nonzeros.resize(static_cast<std::size_t>(kernels * setting.n));
  std::size_t out = 0;
  for (std::int64_t k = 0; k < kernels; ++k) {
    const float scale = layer.weight_scale[static_cast<std::size_t>(k / g.in_channels_per_group())];
    for (int p = 0; p < K; ++p) {
      const bool keep = !setting.pattern_pruned || ((masks[static_cast<std::size_t>(k)] >> p) & 1u);
      if (keep) layer.nonzeros[out++] = quantise_weight(folded[static_cast<std::size_t>(k * K + p)], scale);
    }
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
                        const std::vector<LayerSetting>& settings, QuantGranularity quant) {
  if (settings.size() != convs.size()) throw Error("prune_convs", "one setting per conv needed");
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
    prune_conv(convs[l], settings[l], quant, layer, pm.stats[l], pm.pruned_weights[l],
               pm.folded_bias[l]);
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
