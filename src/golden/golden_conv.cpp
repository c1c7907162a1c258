#include "pcnn/golden/golden_conv.hpp"

#include <limits>
#include <string>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {

void check_geometry(const ConvGeometry& g) {
  const std::string where = "golden_conv";
  if (g.in_channels <= 0 || g.out_channels <= 0 || g.in_h <= 0 || g.in_w <= 0 ||
      g.kernel_h <= 0 || g.kernel_w <= 0)
    throw Error(where, "empty shape");
  if (g.stride_h <= 0 || g.stride_w <= 0) throw Error(where, "stride must be positive");
  if (g.dilation_h <= 0 || g.dilation_w <= 0) throw Error(where, "dilation must be positive");
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_bottom < 0 || g.pad_right < 0)
    throw Error(where, "negative padding");
  if (g.group <= 0 || g.in_channels % g.group != 0 || g.out_channels % g.group != 0)
    throw Error(where, "group does not divide the input and output channels");
  // The dilated kernel must fit inside the padded input (at least one output).
  if (g.in_h + g.pad_top + g.pad_bottom < g.dilation_h * (g.kernel_h - 1) + 1 ||
      g.in_w + g.pad_left + g.pad_right < g.dilation_w * (g.kernel_w - 1) + 1)
    throw Error(where, "kernel larger than the padded input");
}

// floor(a / b) for b > 0; C++ division truncates towards zero.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

}  // namespace

std::vector<std::int32_t> golden_conv_accumulators(const ConvGeometry& g,
                                                   const std::vector<std::int8_t>& dense_weights,
                                                   const std::vector<std::int32_t>& bias,
                                                   const std::vector<std::int8_t>& input) {
  check_geometry(g);
  const std::string where = "golden_conv";
  const int C = g.in_channels, M = g.out_channels, H = g.in_h, W = g.in_w;
  const int KH = g.kernel_h, KW = g.kernel_w;
  const int Cg = C / g.group;  // input channels seen by one output channel
  const int Mg = M / g.group;  // output channels per group
  // Output size from the definition (not from ConvGeometry, to stay independent).
  const int OH = (H + g.pad_top + g.pad_bottom - g.dilation_h * (KH - 1) - 1) / g.stride_h + 1;
  const int OW = (W + g.pad_left + g.pad_right - g.dilation_w * (KW - 1) - 1) / g.stride_w + 1;

  if (static_cast<std::int64_t>(input.size()) != static_cast<std::int64_t>(C) * H * W)
    throw Error(where, "input has " + std::to_string(input.size()) + " elements, expected C*H*W = " +
                           std::to_string(static_cast<std::int64_t>(C) * H * W));
  const std::int64_t weight_count = static_cast<std::int64_t>(M) * Cg * KH * KW;
  if (static_cast<std::int64_t>(dense_weights.size()) != weight_count)
    throw Error(where, "weights have " + std::to_string(dense_weights.size()) +
                           " elements, expected M*(C/group)*kh*kw = " +
                           std::to_string(weight_count));
  if (static_cast<std::int64_t>(bias.size()) != M)
    throw Error(where, "bias has " + std::to_string(bias.size()) + " elements, expected M = " +
                           std::to_string(M));

  std::vector<std::int32_t> out(static_cast<std::size_t>(M) * OH * OW);
  for (int m = 0; m < M; ++m) {
    const int grp = m / Mg;
    for (int oy = 0; oy < OH; ++oy) {
      for (int ox = 0; ox < OW; ++ox) {
        std::int64_t acc = bias[m];
        for (int ci = 0; ci < Cg; ++ci) {
          const int c = grp * Cg + ci;
          for (int ky = 0; ky < KH; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= H) continue;  // zero padding
            for (int kx = 0; kx < KW; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= W) continue;
              const std::int64_t w =
                  dense_weights[((static_cast<std::size_t>(m) * Cg + ci) * KH + ky) * KW + kx];
              const std::int64_t x = input[(static_cast<std::size_t>(c) * H + iy) * W + ix];
              acc += w * x;
            }
          }
        }
        if (acc < std::numeric_limits<std::int32_t>::min() ||
            acc > std::numeric_limits<std::int32_t>::max())
          throw Error(where, "accumulator of output channel " + std::to_string(m) +
                                 " leaves the int32 range");
        out[(static_cast<std::size_t>(m) * OH + oy) * OW + ox] = static_cast<std::int32_t>(acc);
      }
    }
  }
  return out;
}

std::int8_t golden_requantize(std::int32_t acc, const Requant& rq, bool relu) {
  if (rq.shift < -31 || rq.shift > 31)
    throw Error("golden_requantize", "shift " + std::to_string(rq.shift) + " outside -31..31");
  const int total_shift = 31 + rq.shift;  // 0..62
  // |acc * multiplier| <= 2^62, so the product and the added half fit in int64.
  const std::int64_t product = static_cast<std::int64_t>(acc) * rq.multiplier;
  std::int64_t y;
  if (total_shift == 0) {
    y = product;
  } else {
    const std::int64_t divisor = std::int64_t{1} << total_shift;
    y = floor_div(product + divisor / 2, divisor);  // floor(x + 1/2)
  }
  const std::int64_t lo = relu ? 0 : -128;
  if (y < lo) y = lo;
  if (y > 127) y = 127;
  return static_cast<std::int8_t>(y);
}

std::vector<std::int8_t> golden_conv_layer(const SpmLayer& layer,
                                           const std::vector<std::int8_t>& input) {
  layer.validate();
  const std::vector<std::int32_t> acc =
      golden_conv_accumulators(layer.geom, layer.dense_weights(), layer.bias, input);
  const std::size_t plane = acc.size() / static_cast<std::size_t>(layer.geom.out_channels);
  std::vector<std::int8_t> out(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i)
    out[i] = golden_requantize(acc[i], layer.requant[i / plane], layer.relu);
  return out;
}

}  // namespace pcnn
