#pragma once
// Random int8 operators for the post-processing unit's tests: a NetNode with
// its tensors (inputs first, output last) and random input values including
// -128, the shapes, windows, scales and tables drawn from a seeded generator.
// The golden operators take C-order tensors; the unit keeps them channel-last
// in DRAM, so the values are reordered on the way in and out.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "models/post_process/post_op.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/int8_network.hpp"

namespace pcnn_test {

// A C-order tensor of `t`'s shape in the unit's channel-last order (and back).
inline std::vector<std::int8_t> channel_last(const pcnn::NetTensor& t,
                                             const std::vector<std::int8_t>& v, bool back = false) {
  if (t.shape.size() != 4) return v;
  const std::size_t C = static_cast<std::size_t>(t.shape[1]);
  const std::size_t P = static_cast<std::size_t>(t.shape[2] * t.shape[3]);
  std::vector<std::int8_t> out(v.size());
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t p = 0; p < P; ++p) {
      if (back)
        out[c * P + p] = v[p * C + c];
      else
        out[p * C + c] = v[c * P + p];
    }
  return out;
}

struct RandomPostOp {
  pcnn::NetNode node;
  std::vector<pcnn::NetTensor> tensors;          // inputs, then the output
  std::vector<std::vector<std::int8_t>> inputs;  // values of node.inputs

  std::vector<std::int8_t> golden() const {
    std::vector<const std::vector<std::int8_t>*> p;
    for (const auto& v : inputs) p.push_back(&v);
    return pcnn::golden_int8_operator(node, tensors, p);
  }
  // The inputs and the golden output as the unit stores them (channel-last).
  std::vector<std::vector<std::int8_t>> stored_inputs() const {
    std::vector<std::vector<std::int8_t>> s;
    for (std::size_t i = 0; i < inputs.size(); ++i)
      s.push_back(channel_last(tensors[static_cast<std::size_t>(node.inputs[i])], inputs[i]));
    return s;
  }
  std::vector<std::int8_t> stored_golden() const {
    return channel_last(tensors[static_cast<std::size_t>(node.output)], golden());
  }
  // The descriptor with the tensors laid out one after the other from `base`
  // (64-byte aligned); addresses()[i] is input i, the last one the output.
  std::vector<std::uint64_t> addresses(std::uint64_t base = 0) const {
    std::vector<std::uint64_t> a;
    for (const auto& t : tensors) {
      a.push_back(base);
      base += (static_cast<std::uint64_t>(t.elements()) + 63) / 64 * 64;
    }
    return a;
  }
  pcnn::PostOpDescriptor descriptor(std::uint64_t base = 0) const {
    std::vector<std::uint64_t> a = addresses(base);
    const std::uint64_t out = a.back();
    a.pop_back();
    return pcnn::make_post_op(node, tensors, a, out);
  }
};

inline int uniform(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

inline std::vector<std::int8_t> random_values(std::mt19937_64& rng, std::int64_t n) {
  std::vector<std::int8_t> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<std::int8_t>(uniform(rng, -128, 127));
  // Extremes on purpose: -128 and 127 take part in every tensor of a few bytes.
  if (n > 0) v[rng() % v.size()] = -128;
  if (n > 1) v[rng() % v.size()] = 127;
  return v;
}

inline double random_ratio(std::mt19937_64& rng) {
  return std::ldexp(1.0 + (rng() % 1000) / 1000.0, uniform(rng, -12, 6));
}

// One random operator of kind `op` (any Int8Op the unit runs).
inline RandomPostOp random_post_op(std::mt19937_64& rng, pcnn::Int8Op op) {
  using pcnn::Int8Op;
  RandomPostOp r;
  pcnn::NetNode& n = r.node;
  n.op = op;
  n.name = std::string("random_") + pcnn::to_string(op);
  auto add_tensor = [&](std::vector<std::int64_t> shape) {
    r.tensors.push_back(pcnn::NetTensor{"t" + std::to_string(r.tensors.size()), std::move(shape),
                                        static_cast<float>(random_ratio(rng)), false});
    return static_cast<int>(r.tensors.size()) - 1;
  };
  const std::int64_t C = uniform(rng, 1, 5), H = uniform(rng, 1, 11), W = uniform(rng, 1, 11);
  auto shape4 = [](std::int64_t c, std::int64_t h, std::int64_t w) {
    return std::vector<std::int64_t>{1, c, h, w};
  };
  switch (op) {
    case Int8Op::rescale:
    case Int8Op::relu:
    case Int8Op::clip:
    case Int8Op::add: {
      const std::vector<std::int64_t> s =
          rng() % 4 == 0 ? std::vector<std::int64_t>{1, uniform(rng, 1, 300)} : shape4(C, H, W);
      const int inputs = op == Int8Op::add ? 2 : 1;
      for (int i = 0; i < inputs; ++i) n.inputs.push_back(add_tensor(s));
      n.output = add_tensor(s);
      if (op == Int8Op::relu) {
        n.lo = 0;
      } else if (op == Int8Op::clip) {
        n.lo = uniform(rng, -128, 127);
        n.hi = uniform(rng, n.lo, 127);
      } else {
        n.lo = rng() % 2 ? 0 : -128;
        std::vector<double> ratios;
        for (int i = 0; i < inputs; ++i) ratios.push_back(random_ratio(rng));
        n.rescale = pcnn::make_rescale(ratios);
      }
      if (op == Int8Op::relu || op == Int8Op::clip) r.tensors[1].scale = r.tensors[0].scale;
      break;
    }
    case Int8Op::concat: {
      const int k = uniform(rng, 1, 4);
      std::int64_t channels = 0;
      std::vector<double> ratios;
      for (int i = 0; i < k; ++i) {
        const std::int64_t c = uniform(rng, 1, 3);
        channels += c;
        n.inputs.push_back(add_tensor(shape4(c, H, W)));
        ratios.push_back(random_ratio(rng));
      }
      n.output = add_tensor(shape4(channels, H, W));
      n.lo = rng() % 2 ? 0 : -128;
      n.rescale = pcnn::make_rescale(ratios);
      break;
    }
    case Int8Op::max_pool:
    case Int8Op::average_pool: {
      for (;;) {
        n.kernel_h = uniform(rng, 1, 4);
        n.kernel_w = uniform(rng, 1, 4);
        n.stride_h = uniform(rng, 1, 3);
        n.stride_w = uniform(rng, 1, 3);
        n.dilation_h = uniform(rng, 1, 2);
        n.dilation_w = uniform(rng, 1, 2);
        n.pad_top = uniform(rng, 0, n.kernel_h - 1);
        n.pad_bottom = uniform(rng, 0, n.kernel_h - 1);
        n.pad_left = uniform(rng, 0, n.kernel_w - 1);
        n.pad_right = uniform(rng, 0, n.kernel_w - 1);
        const std::int64_t eh = (n.kernel_h - 1) * n.dilation_h + 1;
        const std::int64_t ew = (n.kernel_w - 1) * n.dilation_w + 1;
        const std::int64_t span_h = H + n.pad_top + n.pad_bottom - eh;
        const std::int64_t span_w = W + n.pad_left + n.pad_right - ew;
        if (span_h < 0 || span_w < 0) continue;
        std::int64_t OH = span_h / n.stride_h + 1, OW = span_w / n.stride_w + 1;
        // ceil_mode: one more window when it still starts inside the padded input.
        if (rng() % 2 && OH * n.stride_h - n.pad_top < H + n.pad_bottom && span_h % n.stride_h)
          ++OH;
        if (rng() % 2 && OW * n.stride_w - n.pad_left < W + n.pad_right && span_w % n.stride_w)
          ++OW;
        n.count_include_pad = rng() % 2 == 0;
        n.inputs.push_back(add_tensor(shape4(C, H, W)));
        n.output = add_tensor(shape4(C, OH, OW));
        break;
      }
      r.tensors[1].scale = r.tensors[0].scale;
      break;
    }
    case Int8Op::global_average_pool:
    case Int8Op::global_max_pool:
      n.inputs.push_back(add_tensor(shape4(C, H, W)));
      n.output = add_tensor(shape4(C, 1, 1));
      r.tensors[1].scale = r.tensors[0].scale;
      break;
    case Int8Op::resize_nearest: {
      const std::int64_t OH = uniform(rng, 1, 2 * static_cast<int>(H) + 1);
      const std::int64_t OW = uniform(rng, 1, 2 * static_cast<int>(W) + 1);
      for (std::int64_t i = 0; i < OH; ++i)
        n.rows.push_back(uniform(rng, 0, static_cast<int>(H) - 1));
      std::sort(n.rows.begin(), n.rows.end());
      for (std::int64_t j = 0; j < OW; ++j)
        n.cols.push_back(uniform(rng, 0, static_cast<int>(W) - 1));
      n.inputs.push_back(add_tensor(shape4(C, H, W)));
      n.output = add_tensor(shape4(C, OH, OW));
      r.tensors[1].scale = r.tensors[0].scale;
      break;
    }
    case Int8Op::depth_to_space: {
      n.block = uniform(rng, 1, 3);
      n.crd = rng() % 2 == 0;
      const std::int64_t oc = uniform(rng, 1, 3), b = n.block;
      n.inputs.push_back(add_tensor(shape4(oc * b * b, H, W)));
      n.output = add_tensor(shape4(oc, H * b, W * b));
      r.tensors[1].scale = r.tensors[0].scale;
      break;
    }
    default:
      break;
  }
  for (int i : n.inputs)
    r.inputs.push_back(random_values(rng, r.tensors[static_cast<std::size_t>(i)].elements()));
  return r;
}

// Every Int8Op the unit runs.
inline std::vector<pcnn::Int8Op> post_process_ops() {
  using pcnn::Int8Op;
  return {Int8Op::rescale,         Int8Op::relu,          Int8Op::clip,
          Int8Op::max_pool,        Int8Op::average_pool,  Int8Op::global_average_pool,
          Int8Op::global_max_pool, Int8Op::add,           Int8Op::concat,
          Int8Op::resize_nearest,  Int8Op::depth_to_space};
}

}  // namespace pcnn_test
