#include "pcnn/network/network_input_shape.hpp"

#include <algorithm>

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace {

using Shape = std::vector<std::int64_t>;

std::string shape_text(const Shape& s) {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t;
}

std::int64_t elements(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Output positions of a pooling window along one axis, rounded down or up.
std::int64_t window_out(std::int64_t in, int k, int s, int d, int pad_begin, int pad_end,
                        bool ceil_mode) {
  const std::int64_t span = in + pad_begin + pad_end - (static_cast<std::int64_t>(k - 1) * d + 1);
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // ONNX ceil mode: a last window that starts in the end padding is dropped.
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

// The source index table of a nearest resize by an integer factor (output
// index i reads input i / factor), or empty when `table` is not one.
std::int64_t integer_factor(const std::vector<std::int64_t>& table, std::int64_t in) {
  const auto out = static_cast<std::int64_t>(table.size());
  if (in < 1 || out % in != 0) return 0;
  const std::int64_t f = out / in;
  for (std::int64_t i = 0; i < out; ++i)
    if (table[static_cast<std::size_t>(i)] != i / f) return 0;
  return f;
}

}  // namespace

void set_network_input_shape(Int8Network& net, std::vector<SpmLayer>& conv_layers,
                             const std::vector<std::int64_t>& input_shape,
                             const std::string& where) {
  Int8Network n2 = net;
  std::vector<SpmLayer> layers = conv_layers;
  const Shape& old_in = net.tensors[net.input].shape;
  if (input_shape.size() != 4 || old_in.size() != 4 || input_shape[1] != old_in[1])
    throw Error(where, "input shape " + shape_text(input_shape) + " needs the " +
                           std::to_string(old_in.size() == 4 ? old_in[1] : 0) +
                           " channels of the pruned network's input " + shape_text(old_in));
  n2.tensors[n2.input].shape = input_shape;
  for (NetNode& n : n2.nodes) {
    const std::string at = "node '" + n.name + "' (" + to_string(n.op) + ")";
    auto fail = [&](const std::string& what) {
      throw Error(where, "at input shape " + shape_text(input_shape) + ", " + at + " " + what);
    };
    const Shape& old_x = net.tensors[n.inputs[0]].shape;
    const Shape& old_y = net.tensors[n.output].shape;
    const Shape x = n2.tensors[n.inputs[0]].shape;
    Shape y = old_y;
    switch (n.op) {
      case Int8Op::conv: {
        SpmLayer& l = layers[static_cast<std::size_t>(n.layer)];
        l.geom.in_h = static_cast<int>(x[2]);
        l.geom.in_w = static_cast<int>(x[3]);
        if (l.geom.out_h() <= 0 || l.geom.out_w() <= 0)
          fail("gets a " + std::to_string(x[2]) + "x" + std::to_string(x[3]) +
               " input, smaller than its kernel window");
        y = {1, l.geom.out_channels, l.geom.out_h(), l.geom.out_w()};
        break;
      }
      case Int8Op::gemm:
        if (elements(x) != elements(old_x))
          fail("takes " + std::to_string(elements(old_x)) + " values and would get " +
               std::to_string(elements(x)) + " (the network is not fully convolutional)");
        break;
      case Int8Op::rescale:
      case Int8Op::relu:
      case Int8Op::clip:
      case Int8Op::add:
        y = x;
        for (int i : n.inputs)
          if (n2.tensors[i].shape != x) fail("gets inputs of different shapes");
        break;
      case Int8Op::max_pool:
      case Int8Op::average_pool: {
        // The rounding the pruned shape shows (ONNX ceil_mode is not stored).
        bool ceil_mode = false;
        for (bool c : {false, true})
          if (window_out(old_x[2], n.kernel_h, n.stride_h, n.dilation_h, n.pad_top, n.pad_bottom,
                         c) == old_y[2] &&
              window_out(old_x[3], n.kernel_w, n.stride_w, n.dilation_w, n.pad_left, n.pad_right,
                         c) == old_y[3]) {
            ceil_mode = c;
            break;
          }
        y = {1, x[1],
             window_out(x[2], n.kernel_h, n.stride_h, n.dilation_h, n.pad_top, n.pad_bottom,
                        ceil_mode),
             window_out(x[3], n.kernel_w, n.stride_w, n.dilation_w, n.pad_left, n.pad_right,
                        ceil_mode)};
        if (y[2] < 1 || y[3] < 1) fail("gets an input smaller than its window");
        break;
      }
      case Int8Op::global_average_pool:
      case Int8Op::global_max_pool:
        y = {1, x[1], 1, 1};
        break;
      case Int8Op::concat:
        y = x;
        y[1] = 0;
        for (int i : n.inputs) {
          const Shape& t = n2.tensors[i].shape;
          if (t.size() != 4 || t[2] != x[2] || t[3] != x[3]) fail("gets inputs of different sizes");
          y[1] += t[1];
        }
        break;
      case Int8Op::reshape:
        if (old_y == old_x)
          y = x;
        else if (old_y.size() == 2 && old_y[0] == 1)  // Flatten / view(N, -1)
          y = {1, elements(x)};
        else if (elements(x) == elements(old_x))
          y = old_y;
        else
          fail("has a fixed target shape " + shape_text(old_y) + " that " + shape_text(x) +
               " does not fill");
        break;
      case Int8Op::resize_nearest: {
        const std::int64_t fh = integer_factor(n.rows, old_x[2]);
        const std::int64_t fw = integer_factor(n.cols, old_x[3]);
        if (fh == 0 || fw == 0)
          fail("is not an integer upscale (only those are carried to another input size)");
        y = {1, x[1], x[2] * fh, x[3] * fw};
        n.rows.resize(static_cast<std::size_t>(y[2]));
        n.cols.resize(static_cast<std::size_t>(y[3]));
        for (std::int64_t i = 0; i < y[2]; ++i) n.rows[static_cast<std::size_t>(i)] = i / fh;
        for (std::int64_t i = 0; i < y[3]; ++i) n.cols[static_cast<std::size_t>(i)] = i / fw;
        break;
      }
      case Int8Op::depth_to_space:
        y = {1, x[1] / (n.block * n.block), x[2] * n.block, x[3] * n.block};
        break;
    }
    n2.tensors[n.output].shape = y;
  }
  n2.validate(layers, where);
  net = std::move(n2);
  conv_layers = std::move(layers);
}

}  // namespace pcnn
