#pragma once
// int8 quantisation of the pruned weights and the integer requantisation of a
// 32-bit accumulator. The exact rounding is documented in docs/quantisation.md;
// the accelerator datapath and the golden reference implement the same rule
// independently.
#include <cstdint>
#include <vector>

#include "pcnn/image/spm_layer.hpp"

namespace pcnn {

enum class QuantGranularity { kPerChannel, kPerLayer };

// Symmetric int8 scale for a set of values: max|w| / 127, or 1 when all are 0.
float symmetric_scale(float absmax);

// q = clamp(round_half_away_from_zero(w / scale), -127, 127).
std::int8_t quantise_weight(float w, float scale);

// Integer (multiplier, shift) for a positive real multiplier r such that
// r ~= multiplier / 2^(31 + shift) with multiplier in [2^30, 2^31):
// r = f * 2^e (frexp, f in [0.5, 1)), multiplier = round(f * 2^31), shift = -e.
// A multiplier below 2^-32 maps to (2^30, 31), which gives the same int8
// output (0) for every int32 accumulator. Throws pcnn::Error when r is not
// finite, not positive or 2^31 or larger.
Requant requant_from_real(double real_multiplier);

// y = clamp(round_half_up(acc * multiplier / 2^(31 + shift)), relu ? 0 : -128, 127),
// computed exactly in 64-bit integers; round_half_up(x) = floor(x + 1/2).
std::int8_t requantise(std::int32_t acc, const Requant& rq, bool relu);

// Bias in accumulator units: round_half_away_from_zero(b / (input_scale * weight_scale)),
// saturated to the int32 range.
std::int32_t quantise_bias(float bias, float input_scale, float weight_scale);

}  // namespace pcnn
