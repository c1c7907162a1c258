#include "pcnn/golden/golden_network.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_conv.hpp"

namespace pcnn {
namespace {

std::int8_t clamp8(std::int64_t v, int lo, int hi) {
  return static_cast<std::int8_t>(std::min<std::int64_t>(hi, std::max<std::int64_t>(lo, v)));
}

// floor(a / b) for b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// round_half_up(sum / count) = floor((2 * sum + count) / (2 * count)).
std::int8_t mean8(std::int64_t sum, std::int64_t count) {
  return clamp8(floor_div(2 * sum + count, 2 * count), -128, 127);
}

std::vector<std::int8_t> pool(const NetNode& n, const NetTensor& xt, const NetTensor& yt,
                              const std::vector<std::int8_t>& x, bool is_max) {
  const std::int64_t C = xt.shape[1], H = xt.shape[2], W = xt.shape[3];
  const std::int64_t OH = yt.shape[2], OW = yt.shape[3];
  std::vector<std::int8_t> y(static_cast<std::size_t>(C * OH * OW));
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t oy = 0; oy < OH; ++oy)
      for (std::int64_t ox = 0; ox < OW; ++ox) {
        std::int64_t best = -129, sum = 0, valid = 0, padded = 0;
        for (int ky = 0; ky < n.kernel_h; ++ky) {
          const std::int64_t iy = oy * n.stride_h - n.pad_top + ky * n.dilation_h;
          for (int kx = 0; kx < n.kernel_w; ++kx) {
            const std::int64_t ix = ox * n.stride_w - n.pad_left + kx * n.dilation_w;
            if (iy < H + n.pad_bottom && ix < W + n.pad_right) ++padded;  // iy, ix >= -pad always
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const std::int64_t v = x[static_cast<std::size_t>((c * H + iy) * W + ix)];
            best = std::max(best, v);
            sum += v;
            ++valid;
          }
        }
        const std::int64_t count = n.count_include_pad ? padded : valid;
        std::int8_t out = 0;
        if (is_max)
          out = valid > 0 ? static_cast<std::int8_t>(best) : 0;
        else
          out = count > 0 ? mean8(sum, count) : 0;
        y[static_cast<std::size_t>((c * OH + oy) * OW + ox)] = out;
      }
  return y;
}

}  // namespace

std::vector<std::int8_t> golden_int8_operator(
    const NetNode& n, const std::vector<NetTensor>& tensors,
    const std::vector<const std::vector<std::int8_t>*>& in) {
  const NetTensor& xt = tensors[n.inputs[0]];
  const NetTensor& yt = tensors[n.output];
  const std::vector<std::int8_t>& x = *in[0];
  std::vector<std::int8_t> y;
  switch (n.op) {
    case Int8Op::conv:
    case Int8Op::gemm:
      throw Error("golden network", "conv and gemm run through golden_conv_layer");
    case Int8Op::relu:
    case Int8Op::clip:
      y.resize(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) y[i] = clamp8(x[i], n.lo, n.hi);
      return y;
    case Int8Op::reshape:
      return x;
    case Int8Op::max_pool:
    case Int8Op::average_pool:
      return pool(n, xt, yt, x, n.op == Int8Op::max_pool);
    case Int8Op::global_average_pool:
    case Int8Op::global_max_pool: {
      const std::int64_t C = xt.shape[1], HW = xt.shape[2] * xt.shape[3];
      for (std::int64_t c = 0; c < C; ++c) {
        const std::int8_t* p = x.data() + c * HW;
        if (n.op == Int8Op::global_max_pool) {
          y.push_back(*std::max_element(p, p + HW));
        } else {
          std::int64_t sum = 0;
          for (std::int64_t i = 0; i < HW; ++i) sum += p[i];
          y.push_back(mean8(sum, HW));
        }
      }
      return y;
    }
    case Int8Op::rescale:
    case Int8Op::add: {
      const std::int64_t half = std::int64_t{1} << (n.rescale.shift - 1);
      y.resize(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        std::int64_t acc = half;
        for (std::size_t k = 0; k < in.size(); ++k)
          acc += static_cast<std::int64_t>((*in[k])[i]) * n.rescale.multipliers[k];
        y[i] = clamp8(acc >> n.rescale.shift, n.lo, 127);
      }
      return y;
    }
    case Int8Op::concat: {
      const std::int64_t half = std::int64_t{1} << (n.rescale.shift - 1);
      for (std::size_t k = 0; k < in.size(); ++k)
        for (const std::int8_t v : *in[k])
          y.push_back(clamp8((v * n.rescale.multipliers[k] + half) >> n.rescale.shift, n.lo, 127));
      return y;
    }
    case Int8Op::resize_nearest: {
      const std::int64_t C = xt.shape[1], H = xt.shape[2], W = xt.shape[3];
      for (std::int64_t c = 0; c < C; ++c)
        for (const std::int64_t r : n.rows)
          for (const std::int64_t col : n.cols)
            y.push_back(x[static_cast<std::size_t>((c * H + r) * W + col)]);
      return y;
    }
    case Int8Op::depth_to_space: {
      const std::int64_t b = n.block, C = xt.shape[1], H = xt.shape[2], W = xt.shape[3];
      const std::int64_t oc = C / (b * b);
      for (std::int64_t c = 0; c < oc; ++c)
        for (std::int64_t yy = 0; yy < H * b; ++yy)
          for (std::int64_t xx = 0; xx < W * b; ++xx) {
            const std::int64_t i = yy % b, j = xx % b;
            const std::int64_t src = n.crd ? (c * b + i) * b + j : (i * b + j) * oc + c;
            y.push_back(x[static_cast<std::size_t>((src * H + yy / b) * W + xx / b)]);
          }
      return y;
    }
  }
  throw Error("golden network", "unknown operator");
}

GoldenNetwork GoldenNetwork::load(const std::string& images_dir) {
  ModelImages images = read_model_images(images_dir);
  Int8Network net = read_int8_network(images_dir, images.layers);
  if (net.images_identity != images.identity)
    throw Error(images_dir + "/network.json",
                "belongs to images " + net.images_identity + ", not to " + images.identity);
  return GoldenNetwork(std::move(images), std::move(net));
}

GoldenNetwork::GoldenNetwork(ModelImages images, Int8Network network)
    : images_(std::move(images)), net_(std::move(network)) {
  net_.validate(images_.layers, "golden network");
}

const std::vector<std::int64_t>& GoldenNetwork::input_shape() const {
  return net_.tensors[net_.input].shape;
}

float GoldenNetwork::input_scale() const { return net_.tensors[net_.input].scale; }

std::vector<std::int8_t> GoldenNetwork::quantise_input(const std::vector<float>& nchw) const {
  const NetTensor& t = net_.tensors[net_.input];
  if (static_cast<std::int64_t>(nchw.size()) != t.elements())
    throw Error("network input", "has " + std::to_string(nchw.size()) +
                                     " values; the model takes " + std::to_string(t.elements()));
  std::vector<std::int8_t> q(nchw.size());
  for (std::size_t i = 0; i < nchw.size(); ++i) {
    const double v = std::round(static_cast<double>(nchw[i]) / t.scale);  // half away from zero
    q[i] = static_cast<std::int8_t>(std::min(127.0, std::max(-127.0, v)));
  }
  return q;
}

GoldenOutput GoldenNetwork::run(const std::vector<std::int8_t>& input,
                                const TensorObserver& observer) const {
  const auto& T = net_.tensors;
  if (static_cast<std::int64_t>(input.size()) != T[net_.input].elements())
    throw Error("network input", "has " + std::to_string(input.size()) +
                                     " values; the model takes " +
                                     std::to_string(T[net_.input].elements()));
  // Values of each tensor, freed after its last reader.
  std::vector<std::vector<std::int8_t>> values(T.size());
  std::vector<int> readers(T.size(), 0);
  for (const NetNode& n : net_.nodes)
    for (int i : n.inputs) ++readers[i];
  ++readers[net_.output];
  values[net_.input] = input;
  for (const NetNode& n : net_.nodes) {
    std::vector<std::int8_t> y;
    if (n.op == Int8Op::conv || n.op == Int8Op::gemm) {
      const SpmLayer& l =
          n.op == Int8Op::conv ? images_.layers[n.layer] : net_.gemm_layers[n.layer];
      y = golden_conv_layer(l, values[n.inputs[0]]);
    } else {
      std::vector<const std::vector<std::int8_t>*> in;
      for (int i : n.inputs) in.push_back(&values[i]);
      y = golden_int8_operator(n, T, in);
    }
    if (static_cast<std::int64_t>(y.size()) != T[n.output].elements())
      throw Error("golden network", "node '" + n.name + "' produced the wrong size");
    if (observer) observer(n, T[n.output], y);
    values[n.output] = std::move(y);
    for (int i : n.inputs)
      if (--readers[i] == 0) std::vector<std::int8_t>().swap(values[i]);
  }
  GoldenOutput out;
  out.values = std::move(values[net_.output]);
  out.shape = T[net_.output].shape;
  out.scale = T[net_.output].scale;
  return out;
}

std::vector<int> top_k(const std::vector<std::int8_t>& values, int k) {
  std::vector<int> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return values[a] > values[b]; });
  idx.resize(std::min<std::size_t>(idx.size(), static_cast<std::size_t>(std::max(k, 0))));
  return idx;
}

}  // namespace pcnn
