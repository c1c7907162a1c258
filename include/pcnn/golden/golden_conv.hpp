#pragma once
// Golden reference: a plain C++ integer convolution written directly from the
// definition, used to check the accelerator model bit for bit. It shares no code
// with the datapath (no SPM decoding, no pointer generation, no tiling): it reads
// dense weights and loops over every output, input channel and kernel position.
// See docs/golden-reference.md.
#include <cstdint>
#include <vector>

#include "pcnn/core/conv_geometry.hpp"
#include "pcnn/image/spm_layer.hpp"

namespace pcnn {

// Integer convolution with zero padding, stride, dilation and groups, bias included.
//   dense_weights: [M][C/group][kernel_h][kernel_w]
//   bias:          [M], in accumulator units
//   input:         [C][H][W]
// Returns the accumulators [M][out_h][out_w]. The accumulator is int32 (as in the
// hardware); the sum is formed in int64 and an accumulator outside the int32 range
// throws pcnn::Error instead of wrapping. Size mismatches throw pcnn::Error.
std::vector<std::int32_t> golden_conv_accumulators(const ConvGeometry& g,
                                                   const std::vector<std::int8_t>& dense_weights,
                                                   const std::vector<std::int32_t>& bias,
                                                   const std::vector<std::int8_t>& input);

// One accumulator to int8 with the Requant rule of pcnn/image/spm_layer.hpp:
//   y = clamp(round_half_up(acc * multiplier / 2^(31 + shift)), relu ? 0 : -128, 127)
// round_half_up(x) = floor(x + 1/2): a tie goes towards +infinity for both signs
// (1.5 -> 2, -1.5 -> -1, -0.5 -> 0). The product is exact in int64 (|acc| and
// |multiplier| are at most 2^31); shift may be negative down to -31 (31 + shift >= 0).
// A shift outside -31..31 throws pcnn::Error.
std::int8_t golden_requantize(std::int32_t acc, const Requant& rq, bool relu);

// A whole layer: golden_conv_accumulators over layer.dense_weights(), then
// golden_requantize with the output channel's Requant and the layer's relu flag.
// input is [C][H][W]; the result is [M][out_h][out_w]. Validates the layer first.
std::vector<std::int8_t> golden_conv_layer(const SpmLayer& layer,
                                           const std::vector<std::int8_t>& input);

}  // namespace pcnn
