#include "pcnn/sim/layer_lowering.hpp"

#include <algorithm>
#include <cstdint>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Group g of a grouped layer as a group-1 layer: input channels
// [g*Cg, (g+1)*Cg), output channels [g*Mg, (g+1)*Mg). Kernels are stored
// output-major (m * Cg + c), so the group's kernels are one contiguous range.
LayerJob group_pass(const LayerJob& job, int g) {
  const SpmLayer& src = job.layer;
  const ConvGeometry& geom = src.geom;
  const int G = geom.group;
  const int Cg = geom.in_channels / G;
  const int Mg = geom.out_channels / G;
  const std::int64_t kernels = static_cast<std::int64_t>(Mg) * Cg;
  const std::int64_t first_kernel = kernels * g;

  LayerJob pass;
  SpmLayer& l = pass.layer;
  l.name = src.name + "/group" + std::to_string(g);
  l.index = src.index;
  l.geom = geom;
  l.geom.in_channels = Cg;
  l.geom.out_channels = Mg;
  l.geom.group = 1;
  l.pattern_pruned = src.pattern_pruned;
  l.n = src.n;
  l.patterns = src.patterns;
  if (src.pattern_pruned)
    l.kernel_index.assign(src.kernel_index.begin() + first_kernel,
                          src.kernel_index.begin() + first_kernel + kernels);
  l.nonzeros.assign(src.nonzeros.begin() + first_kernel * src.n,
                    src.nonzeros.begin() + (first_kernel + kernels) * src.n);
  l.kernel_register_words = src.kernel_register_words;
  const auto m0 = static_cast<std::ptrdiff_t>(g) * Mg;
  l.weight_scale.assign(src.weight_scale.begin() + m0, src.weight_scale.begin() + m0 + Mg);
  l.bias.assign(src.bias.begin() + m0, src.bias.begin() + m0 + Mg);
  l.requant.assign(src.requant.begin() + m0, src.requant.begin() + m0 + Mg);
  l.input_scale = src.input_scale;
  l.output_scale = src.output_scale;
  l.relu = src.relu;

  const std::int64_t plane = static_cast<std::int64_t>(geom.in_h) * geom.in_w;
  const auto in0 = static_cast<std::ptrdiff_t>(plane * Cg * g);
  pass.input.assign(job.input.begin() + in0, job.input.begin() + in0 + plane * Cg);
  return pass;
}

// A group-1 dense layer whose kernel exceeds the pointer generator, as a layer
// with sub-kernels of kh_sub x kw_sub positions over shifted input copies.
//   out[m][oy][ox] = sum_c sum_ky sum_kx w[m][c][ky][kx] * Xpad[c][oy*s + ky*d][ox*s + kx*d]
// With ky = r*kh_sub + j and kx = q*kw_sub + i, the copy (r, q) of channel c is
//   X'[(r*cw + q)*C + c][y][x] = Xpad[c][y + r*kh_sub*d_h][x + q*kw_sub*d_w]
// (zero beyond Xpad), and the sub-kernel weight is w[m][c][r*kh_sub+j][q*kw_sub+i]
// (zero beyond the kernel). The lowered layer has no padding and just the rows
// and columns its outputs read, so its output shape equals the original's.
LayerJob kernel_split_pass(const LayerJob& job, std::string& description) {
  const SpmLayer& src = job.layer;
  const ConvGeometry& g = src.geom;
  const int kw_sub = std::min(g.kernel_w, kMaxKernelPositions);
  const int cw = ceil_div(g.kernel_w, kw_sub);
  const int kw_even = ceil_div(g.kernel_w, cw);  // balance the column chunks
  const int kh_sub = std::min(g.kernel_h, kMaxKernelPositions / kw_even);
  const int ch = ceil_div(g.kernel_h, kh_sub);
  const int copies = ch * cw;
  const int C = g.in_channels, M = g.out_channels, K = g.kernel_size();
  const int OH = g.out_h(), OW = g.out_w();

  LayerJob pass;
  SpmLayer& l = pass.layer;
  l.name = src.name;
  l.index = src.index;
  l.geom = g;
  l.geom.in_channels = C * copies;
  l.geom.kernel_h = kh_sub;
  l.geom.kernel_w = kw_even;
  l.geom.pad_top = l.geom.pad_left = l.geom.pad_bottom = l.geom.pad_right = 0;
  l.geom.in_h = (OH - 1) * g.stride_h + g.dilation_h * (kh_sub - 1) + 1;
  l.geom.in_w = (OW - 1) * g.stride_w + g.dilation_w * (kw_even - 1) + 1;
  const int K2 = l.geom.kernel_size();
  l.pattern_pruned = false;
  l.n = K2;
  l.kernel_register_words = src.kernel_register_words;
  l.weight_scale = src.weight_scale;
  l.bias = src.bias;
  l.requant = src.requant;
  l.input_scale = src.input_scale;
  l.output_scale = src.output_scale;
  l.relu = src.relu;

  // Sub-kernel weights, kernel (m, (r*cw + q)*C + c) in position order.
  const std::vector<std::int8_t> w = src.dense_weights();  // [M][C][K]
  l.nonzeros.assign(static_cast<std::size_t>(M) * l.geom.in_channels * K2, 0);
  for (int m = 0; m < M; ++m)
    for (int r = 0; r < ch; ++r)
      for (int q = 0; q < cw; ++q)
        for (int c = 0; c < C; ++c) {
          const std::int64_t kernel =
              static_cast<std::int64_t>(m) * l.geom.in_channels + (r * cw + q) * C + c;
          for (int j = 0; j < kh_sub; ++j)
            for (int i = 0; i < kw_even; ++i) {
              const int ky = r * kh_sub + j, kx = q * kw_even + i;
              if (ky >= g.kernel_h || kx >= g.kernel_w) continue;
              l.nonzeros[static_cast<std::size_t>(kernel * K2 + j * kw_even + i)] =
                  w[(static_cast<std::size_t>(m) * C + c) * K + ky * g.kernel_w + kx];
            }
        }

  // Shifted copies of the zero-padded input.
  const int H2 = l.geom.in_h, W2 = l.geom.in_w;
  pass.input.assign(static_cast<std::size_t>(l.geom.input_elements()), 0);
  for (int r = 0; r < ch; ++r)
    for (int q = 0; q < cw; ++q)
      for (int c = 0; c < C; ++c) {
        const int dy = r * kh_sub * g.dilation_h - g.pad_top;
        const int dx = q * kw_even * g.dilation_w - g.pad_left;
        std::int8_t* out = &pass.input[static_cast<std::size_t>((r * cw + q) * C + c) * H2 * W2];
        const std::int8_t* in = &job.input[static_cast<std::size_t>(c) * g.in_h * g.in_w];
        for (int y = 0; y < H2; ++y) {
          const int sy = y + dy;
          if (sy < 0 || sy >= g.in_h) continue;
          for (int x = 0; x < W2; ++x) {
            const int sx = x + dx;
            if (sx >= 0 && sx < g.in_w) out[y * W2 + x] = in[sy * g.in_w + sx];
          }
        }
      }

  description = std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) + " kernel as " +
                std::to_string(copies) + " " + std::to_string(kh_sub) + "x" +
                std::to_string(kw_even) + " sub-kernels over " + std::to_string(copies) +
                " shifted input copies";
  return pass;
}

}  // namespace

bool needs_lowering(const SpmLayer& layer) {
  return layer.geom.group != 1 || layer.geom.kernel_size() > kMaxKernelPositions;
}

LoweredLayer lower_for_accelerator(const LayerJob& job) {
  const SpmLayer& layer = job.layer;
  if (static_cast<std::int64_t>(job.input.size()) != layer.geom.input_elements())
    throw Error("input of layer '" + layer.name + "'",
                "expected " + std::to_string(layer.geom.input_elements()) + " values, got " +
                    std::to_string(job.input.size()));
  LoweredLayer lowered;
  if (!needs_lowering(layer)) {
    lowered.passes.push_back(job);
    return lowered;
  }
  layer.validate();
  std::vector<LayerJob> groups;
  if (layer.geom.group != 1) {
    for (int g = 0; g < layer.geom.group; ++g) groups.push_back(group_pass(job, g));
    lowered.description = std::to_string(layer.geom.group) + " groups as separate passes";
  } else {
    groups.push_back(job);
  }
  for (LayerJob& pass : groups) {
    if (pass.layer.geom.kernel_size() > kMaxKernelPositions) {
      std::string how;
      lowered.passes.push_back(kernel_split_pass(pass, how));
      if (lowered.passes.size() == 1)
        lowered.description += (lowered.description.empty() ? "" : "; ") + how;
    } else {
      lowered.passes.push_back(std::move(pass));
    }
  }
  return lowered;
}

}  // namespace pcnn
