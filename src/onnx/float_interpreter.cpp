#include "src/onnx/float_interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "pcnn/core/error.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "src/onnx/conv_kernel.hpp"
#include "src/onnx/graph_index.hpp"
#include "src/onnx/resize_nearest.hpp"
#include "src/onnx/shape_values.hpp"

namespace pcnn::onnx_detail {
namespace {

using Shape = std::vector<std::int64_t>;

struct Tensor {
  Shape shape;
  std::vector<float> data;
};

// An input of a node: a computed tensor or a decoded constant.
struct View {
  Shape shape;
  const float* data = nullptr;
  std::size_t size = 0;
};

std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::string shape_text(const Shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

const std::unordered_set<std::string>& supported_ops() {
  static const std::unordered_set<std::string> ops = {"Conv",          "BatchNormalization",
                                                      "Relu",          "MaxPool",
                                                      "AveragePool",   "GlobalAveragePool",
                                                      "GlobalMaxPool", "Add",
                                                      "Sub",           "Mul",
                                                      "Div",           "Gemm",
                                                      "MatMul",        "Flatten",
                                                      "Reshape",       "Identity",
                                                      "Dropout",       "Softmax",
                                                      "Constant",      "Clip",
                                                      "Concat",        "Resize",
                                                      "Upsample",      "DepthToSpace"};
  return ops;
}

// Everything a node implementation needs to report a failure.
struct NodeContext {
  const onnx::NodeProto& node;
  const TensorContext& ctx;
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ctx.model_path,
                "node '" + node_label(node) + "' (" + node.op_type() + "): " + what);
  }
  // An output whose shape was not known at load (where shape inference checks
  // every tensor against the size limit) is checked before it is allocated.
  void check_output(const Shape& shape) const {
    check_tensor_shape(ctx.model_path,
                       "node '" + node_label(node) + "' (" + node.op_type() + "): output", shape);
  }
  std::int64_t axis(std::int64_t a, std::size_t rank) const {
    const auto r = static_cast<std::int64_t>(rank);
    if (a < -r || a >= r + 1)
      fail("axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    return a < 0 ? a + r : a;
  }
};

void require_nchw(const NodeContext& nc, const View& x) {
  if (x.shape.size() != 4 || x.shape[0] != 1)
    nc.fail("expects a batch-1 NCHW input, got " + shape_text(x.shape));
}

// In place: x becomes (x - mean) / sqrt(var + eps) * gamma + beta per channel.
void batchnorm(const NodeContext& nc, Tensor& x, const View* p) {
  if (x.shape.size() < 2) nc.fail("input rank below 2");
  const auto channels = x.shape[1];
  for (int i = 0; i < 4; ++i)
    if (static_cast<std::int64_t>(p[i].size) != channels)
      nc.fail("parameter size does not match the channels");
  if (int_attribute(nc.node, "training_mode", 0) != 0) nc.fail("training_mode is not supported");
  const float eps = float_attribute(nc.node, "epsilon", 1e-5f);
  const std::int64_t inner = channels > 0 ? numel(x.shape) / x.shape[0] / channels : 0;
  for (std::int64_t n = 0; n < x.shape[0]; ++n)
    for (std::int64_t c = 0; c < channels; ++c) {
      const float scale = p[0].data[c] / std::sqrt(p[3].data[c] + eps);
      const float shift = p[1].data[c] - p[2].data[c] * scale;
      float* v = x.data.data() + (n * channels + c) * inner;
      for (std::int64_t i = 0; i < inner; ++i) v[i] = v[i] * scale + shift;
    }
}

// Output length and begin padding of one pooled dimension.
void pool_dim(const NodeContext& nc, std::int64_t in, std::int64_t k, std::int64_t s,
              std::int64_t d, std::int64_t pad_begin, std::int64_t pad_end, bool ceil_mode,
              const std::string& auto_pad, std::int64_t* out, std::int64_t* begin) {
  const std::int64_t span = (k - 1) * d + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    *out = (in + s - 1) / s;
    const std::int64_t total = std::max<std::int64_t>(0, (*out - 1) * s + span - in);
    *begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    return;
  }
  if (auto_pad == "VALID")
    pad_begin = pad_end = 0;
  else if (auto_pad != "NOTSET")
    nc.fail("unknown auto_pad '" + auto_pad + "'");
  const std::int64_t room = in + pad_begin + pad_end - span;
  if (room < 0) nc.fail("window larger than the padded input");
  *out = (ceil_mode ? (room + s - 1) / s : room / s) + 1;
  if (ceil_mode && (*out - 1) * s >= in + pad_begin) --*out;  // last window must start inside
  *begin = pad_begin;
}

Tensor pool(const NodeContext& nc, const View& x, bool is_max) {
  require_nchw(nc, x);
  const auto kernel = ints_attribute(nc.node, "kernel_shape", {});
  if (kernel.size() != 2) nc.fail("only 2-D pooling with kernel_shape is supported");
  const auto strides = ints_attribute(nc.node, "strides", {1, 1});
  const auto pads = ints_attribute(nc.node, "pads", {0, 0, 0, 0});
  const auto dil = is_max ? ints_attribute(nc.node, "dilations", {1, 1}) : Shape{1, 1};
  if (strides.size() != 2 || pads.size() != 4 || dil.size() != 2)
    nc.fail("bad strides, pads or dilations");
  for (int i = 0; i < 2; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dil[i] < 1 || pads[i] < 0 || pads[i + 2] < 0)
      nc.fail("kernel_shape, strides and dilations must be positive and pads not negative");
  const bool ceil_mode = int_attribute(nc.node, "ceil_mode", 0) != 0;
  const bool include_pad = int_attribute(nc.node, "count_include_pad", 0) != 0;
  const std::string auto_pad = string_attribute(nc.node, "auto_pad", "NOTSET");
  const std::int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
  std::int64_t oh, ow, pt, pl;
  pool_dim(nc, H, kernel[0], strides[0], dil[0], pads[0], pads[2], ceil_mode, auto_pad, &oh, &pt);
  pool_dim(nc, W, kernel[1], strides[1], dil[1], pads[1], pads[3], ceil_mode, auto_pad, &ow, &pl);
  nc.check_output({1, C, oh, ow});
  Tensor y{{1, C, oh, ow}, std::vector<float>(static_cast<std::size_t>(C * oh * ow))};
  const std::int64_t pad_h_end = pads[2], pad_w_end = pads[3];
  for (std::int64_t c = 0; c < C; ++c) {
    const float* plane = x.data + c * H * W;
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        float best = -INFINITY, sum = 0.0f;
        std::int64_t valid = 0, padded = 0;
        for (std::int64_t ky = 0; ky < kernel[0]; ++ky) {
          const std::int64_t iy = oy * strides[0] - pt + ky * dil[0];
          for (std::int64_t kx = 0; kx < kernel[1]; ++kx) {
            const std::int64_t ix = ox * strides[1] - pl + kx * dil[1];
            if (iy >= -pt && iy < H + pad_h_end && ix >= -pl && ix < W + pad_w_end) ++padded;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const float v = plane[iy * W + ix];
            best = std::max(best, v);
            sum += v;
            ++valid;
          }
        }
        const std::int64_t count = include_pad ? padded : valid;
        y.data[static_cast<std::size_t>((c * oh + oy) * ow + ox)] =
            is_max ? best : (count > 0 ? sum / static_cast<float>(count) : 0.0f);
      }
  }
  return y;
}

Tensor global_pool(const NodeContext& nc, const View& x, bool is_max) {
  require_nchw(nc, x);
  const std::int64_t C = x.shape[1], HW = x.shape[2] * x.shape[3];
  Tensor y{{1, C, 1, 1}, std::vector<float>(static_cast<std::size_t>(C))};
  for (std::int64_t c = 0; c < C; ++c) {
    const float* p = x.data + c * HW;
    if (is_max) {
      y.data[c] = HW > 0 ? *std::max_element(p, p + HW) : 0.0f;
    } else {
      double s = 0.0;
      for (std::int64_t i = 0; i < HW; ++i) s += p[i];
      y.data[c] = HW > 0 ? static_cast<float>(s / static_cast<double>(HW)) : 0.0f;
    }
  }
  return y;
}

// Elementwise a op b with numpy-style broadcasting.
template <typename Op>
Tensor broadcast(const NodeContext& nc, const View& a, const View& b, Op op) {
  if (a.shape == b.shape) {
    Tensor y{a.shape, std::vector<float>(a.size)};
    for (std::size_t i = 0; i < a.size; ++i) y.data[i] = op(a.data[i], b.data[i]);
    return y;
  }
  const std::size_t rank = std::max(a.shape.size(), b.shape.size());
  Shape sa(rank, 1), sb(rank, 1), so(rank, 1);
  std::copy(a.shape.begin(), a.shape.end(), sa.begin() + (rank - a.shape.size()));
  std::copy(b.shape.begin(), b.shape.end(), sb.begin() + (rank - b.shape.size()));
  for (std::size_t i = 0; i < rank; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1)
      nc.fail("cannot broadcast " + shape_text(a.shape) + " with " + shape_text(b.shape));
    so[i] = sa[i] == 1 ? sb[i] : sa[i];
  }
  // Element strides, 0 along broadcast dimensions.
  Shape ta(rank), tb(rank);
  std::int64_t pa = 1, pb = 1;
  for (std::size_t i = rank; i-- > 0;) {
    ta[i] = sa[i] == 1 ? 0 : pa;
    tb[i] = sb[i] == 1 ? 0 : pb;
    pa *= sa[i];
    pb *= sb[i];
  }
  nc.check_output(so);
  Tensor y{so, std::vector<float>(static_cast<std::size_t>(numel(so)))};
  Shape idx(rank, 0);
  std::int64_t ia = 0, ib = 0;
  for (std::size_t o = 0; o < y.data.size(); ++o) {
    y.data[o] = op(a.data[ia], b.data[ib]);
    for (std::size_t d = rank; d-- > 0;) {  // odometer increment
      ++idx[d];
      ia += ta[d];
      ib += tb[d];
      if (idx[d] < so[d]) break;
      ia -= ta[d] * so[d];
      ib -= tb[d] * so[d];
      idx[d] = 0;
    }
  }
  return y;
}

float dot(const float* a, const float* b, std::int64_t n) {
  float s[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  float t = 0.0f;
  for (; i < n; ++i) t += a[i] * b[i];
  return t + ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Y[M][N] = A[M][K] * B where B is [K][N] or, when trans_b, [N][K].
std::vector<float> matmul_rows(const float* A, std::int64_t M, std::int64_t K, const float* B,
                               std::int64_t N, bool trans_b) {
  std::vector<float> y(static_cast<std::size_t>(M * N), 0.0f);
  for (std::int64_t m = 0; m < M; ++m) {
    const float* a = A + m * K;
    float* out = y.data() + m * N;
    if (trans_b) {
      for (std::int64_t n = 0; n < N; ++n) out[n] = dot(a, B + n * K, K);
    } else {
      for (std::int64_t k = 0; k < K; ++k) {
        const float w = a[k];
        const float* b = B + k * N;
        for (std::int64_t n = 0; n < N; ++n) out[n] += w * b[n];
      }
    }
  }
  return y;
}

Tensor gemm(const NodeContext& nc, const View& a, const View& b, const View* c) {
  if (a.shape.size() != 2 || b.shape.size() != 2) nc.fail("expects 2-D inputs");
  const bool ta = int_attribute(nc.node, "transA", 0) != 0;
  const bool tb = int_attribute(nc.node, "transB", 0) != 0;
  const float alpha = float_attribute(nc.node, "alpha", 1.0f);
  const float beta = float_attribute(nc.node, "beta", 1.0f);
  const std::int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const std::int64_t KB = tb ? b.shape[1] : b.shape[0], N = tb ? b.shape[0] : b.shape[1];
  if (K != KB)
    nc.fail("inner dimensions differ: " + shape_text(a.shape) + " and " + shape_text(b.shape));
  std::vector<float> at;
  const float* A = a.data;
  if (ta) {
    at.resize(static_cast<std::size_t>(M * K));
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t k = 0; k < K; ++k) at[m * K + k] = a.data[k * M + m];
    A = at.data();
  }
  nc.check_output({M, N});
  Tensor y{{M, N}, matmul_rows(A, M, K, b.data, N, tb)};
  for (auto& v : y.data) v *= alpha;
  if (c && c->size > 0) {
    View yv{y.shape, y.data.data(), y.data.size()};
    Tensor z = broadcast(nc, yv, *c, [beta](float p, float q) { return p + beta * q; });
    if (z.shape != y.shape) nc.fail("C does not broadcast to " + shape_text(y.shape));
    return z;
  }
  return y;
}

Tensor matmul(const NodeContext& nc, const View& a, const View& b) {
  if (b.shape.size() > 2 || b.shape.empty() || a.shape.empty())
    nc.fail("only a 1-D or 2-D right-hand side is supported, got " + shape_text(b.shape));
  const std::int64_t K = b.shape[0], N = b.shape.size() == 2 ? b.shape[1] : 1;
  if (a.shape.back() != K)
    nc.fail("inner dimensions differ: " + shape_text(a.shape) + " and " + shape_text(b.shape));
  Shape out(a.shape.begin(), a.shape.end() - 1);
  if (b.shape.size() == 2) out.push_back(N);
  const std::int64_t M = numel(a.shape) / std::max<std::int64_t>(K, 1);
  nc.check_output(out);
  return {out, matmul_rows(a.data, M, K, b.data, N, false)};
}

Tensor softmax(const NodeContext& nc, const View& x, std::int64_t opset) {
  Tensor y{x.shape, std::vector<float>(x.size)};
  const std::size_t rank = x.shape.size();
  const std::int64_t axis = nc.axis(int_attribute(nc.node, "axis", opset >= 13 ? -1 : 1), rank);
  std::int64_t outer = 1, len = 1, inner = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    const auto d = x.shape[i];
    if (static_cast<std::int64_t>(i) < axis)
      outer *= d;
    else if (opset < 13 || static_cast<std::int64_t>(i) == axis)
      len *= d;  // before 13: flattened tail
    else
      inner *= d;
  }
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t in = 0; in < inner; ++in) {
      const std::size_t base = static_cast<std::size_t>(o * len * inner + in);
      float mx = -INFINITY;
      for (std::int64_t i = 0; i < len; ++i) mx = std::max(mx, x.data[base + i * inner]);
      double sum = 0.0;
      for (std::int64_t i = 0; i < len; ++i) {
        const float e = std::exp(x.data[base + i * inner] - mx);
        y.data[base + i * inner] = e;
        sum += e;
      }
      for (std::int64_t i = 0; i < len; ++i) y.data[base + i * inner] /= static_cast<float>(sum);
    }
  return y;
}

Tensor concat(const NodeContext& nc, const std::vector<View>& xs) {
  if (xs.empty()) nc.fail("has no inputs");
  const std::size_t rank = xs[0].shape.size();
  const std::int64_t axis = nc.axis(int_attribute(nc.node, "axis", 1), rank);
  if (axis >= static_cast<std::int64_t>(rank)) nc.fail("axis out of range");
  Shape out = xs[0].shape;
  out[axis] = 0;
  for (const View& x : xs) {
    if (x.shape.size() != rank) nc.fail("inputs differ in rank");
    for (std::size_t d = 0; d < rank; ++d)
      if (static_cast<std::int64_t>(d) != axis && x.shape[d] != xs[0].shape[d])
        nc.fail("cannot concatenate " + shape_text(xs[0].shape) + " and " + shape_text(x.shape));
    out[axis] += x.shape[axis];
  }
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= out[d];
  nc.check_output(out);
  Tensor y{out, std::vector<float>(static_cast<std::size_t>(numel(out)))};
  float* dst = y.data.data();
  for (std::int64_t o = 0; o < outer; ++o)
    for (const View& x : xs) {
      const std::int64_t inner = outer > 0 ? static_cast<std::int64_t>(x.size) / outer : 0;
      std::copy(x.data + o * inner, x.data + (o + 1) * inner, dst);
      dst += inner;
    }
  return y;
}

Tensor resize_nearest(const NodeContext& nc, const View& x, const NearestResize& r) {
  const std::int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
  nc.check_output({1, C, r.out_h, r.out_w});
  Tensor y{{1, C, r.out_h, r.out_w},
           std::vector<float>(static_cast<std::size_t>(C * r.out_h * r.out_w))};
  std::size_t o = 0;
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t oy = 0; oy < r.out_h; ++oy)
      for (std::int64_t ox = 0; ox < r.out_w; ++ox)
        y.data[o++] = x.data[(c * H + r.rows[oy]) * W + r.cols[ox]];
  return y;
}

Tensor depth_to_space(const NodeContext& nc, const View& x) {
  require_nchw(nc, x);
  const std::int64_t b = int_attribute(nc.node, "blocksize", 0);
  const std::string mode = string_attribute(nc.node, "mode", "DCR");
  if (b < 1) nc.fail("blocksize must be positive");
  if (mode != "DCR" && mode != "CRD") nc.fail("unknown mode '" + mode + "'");
  const std::int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3];
  if (C % (b * b) != 0) nc.fail("channels are not a multiple of blocksize^2");
  const std::int64_t oc = C / (b * b);
  Tensor y{{1, oc, H * b, W * b}, std::vector<float>(x.size)};
  std::size_t o = 0;
  for (std::int64_t c = 0; c < oc; ++c)
    for (std::int64_t yy = 0; yy < H * b; ++yy)
      for (std::int64_t xx = 0; xx < W * b; ++xx) {
        const std::int64_t i = yy % b, j = xx % b;
        const std::int64_t src_c = mode == "DCR" ? (i * b + j) * oc + c : (c * b + i) * b + j;
        y.data[o++] = x.data[(src_c * H + yy / b) * W + xx / b];
      }
  return y;
}

// Operators whose int8 form keeps its input's scale (docs/quantisation.md):
// their output's calibration range is their input's.
bool keeps_scale(const std::string& op) {
  static const std::unordered_set<std::string> ops = {
      "MaxPool", "GlobalMaxPool", "AveragePool", "GlobalAveragePool", "Relu",
      "Clip",    "Flatten",       "Reshape",     "Identity",          "Dropout",
      "Resize",  "Upsample",      "DepthToSpace"};
  return ops.count(op) > 0;
}

float absmax_of(const float* v, std::size_t n) {
  float mx = 0.0f;
  for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, std::fabs(v[i]));
  return mx;
}

float min_of(const float* v, std::size_t n) {
  float mn = INFINITY;
  for (std::size_t i = 0; i < n; ++i) mn = std::min(mn, v[i]);
  return n > 0 ? mn : 0.0f;
}

}  // namespace

FloatInterpreter::FloatInterpreter(
    const onnx::ModelProto& model, const GraphLayout& layout,
    const std::unordered_map<std::string, std::vector<float>>& constants, const TensorContext& ctx)
    : model_(model),
      layout_(layout),
      constants_(constants),
      ctx_(ctx),
      opset_(default_opset(model)) {
  const auto& graph = model.graph();
  GraphIndex index(graph);
  const ShapeValues shape_values(graph, index);
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    const NodeContext nc{node, ctx};
    const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (!shape_values.is_shape_node(i) &&
        (!default_domain || supported_ops().count(node.op_type()) == 0))
      nc.fail("operator " + (node.domain().empty() ? std::string() : node.domain() + ".") +
              node.op_type() + " is not supported by the float interpreter");
    for (int o = 1; o < node.output_size(); ++o)
      if (!node.output(o).empty() &&
          (!index.consumers(node.output(o)).empty() || index.is_graph_output(node.output(o))))
        nc.fail("output " + std::to_string(o) + " ('" + node.output(o) + "') is not supported");
    for (const auto& in : node.input())
      if (!in.empty()) ++uses_[in];
  }
  for (const auto& site : layout.convs) {
    conv_of_node_[site.node_index] = site.conv.index;
    final_outputs_[site.final_output].push_back(site.conv.index);
    conv_of_final_[site.final_output] = site.conv.index;
  }
  if (graph.output_size() == 0) throw Error(ctx.model_path, "graph has no output");
}

std::vector<float> FloatInterpreter::run(const std::vector<std::vector<float>>& conv_weights,
                                         const std::vector<float>& input,
                                         Calibration* calibration) const {
  const auto& graph = model_.graph();
  GraphIndex index(graph);
  ShapeValues shape_values(graph, index);
  const Shape& in_shape = layout_.input_shape;
  if (in_shape.empty() || numel(in_shape) != static_cast<std::int64_t>(input.size()) ||
      std::any_of(in_shape.begin(), in_shape.end(), [](std::int64_t d) { return d < 0; }))
    throw Error(ctx_.model_path, "input has " + std::to_string(input.size()) +
                                     " values; graph input '" + layout_.input_name +
                                     "' has shape " + shape_text(in_shape));
  std::vector<ConvActivationRange>* ranges = calibration ? &calibration->convs : nullptr;
  if (ranges) ranges->resize(layout_.convs.size());

  std::unordered_map<std::string, Tensor> env;
  std::unordered_map<std::string, int> remaining = uses_;
  env[layout_.input_name] = Tensor{in_shape, input};

  // This input's range of every tensor: its own max |x|, or its input's for
  // operators that keep the scale (conv outputs always their own).
  std::unordered_map<std::string, float> range_here;
  auto record_tensor = [&](const std::string& name, const Tensor& t, const std::string& op,
                           const std::string& source) {
    if (!calibration) return;
    const bool inherits =
        keeps_scale(op) && conv_of_final_.count(name) == 0 && range_here.count(source) > 0;
    const float range = inherits ? range_here[source] : absmax_of(t.data.data(), t.data.size());
    range_here[name] = range;
    auto [it, fresh] = calibration->tensors.try_emplace(name);
    TensorRange& r = it->second;
    const float mn = min_of(t.data.data(), t.data.size());
    r.absmax = fresh ? range : std::max(r.absmax, range);
    r.min = fresh ? mn : std::min(r.min, mn);
    r.shape = t.shape;
  };
  auto record_output = [&](const std::string& name, const Tensor& t) {
    if (!ranges) return;
    const auto it = final_outputs_.find(name);
    if (it == final_outputs_.end()) return;
    const float mx =
        range_here.count(name) ? range_here[name] : absmax_of(t.data.data(), t.data.size());
    for (int c : it->second) (*ranges)[c].output_absmax = std::max((*ranges)[c].output_absmax, mx);
  };
  record_tensor(layout_.input_name, env[layout_.input_name], "", "");

  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    const NodeContext nc{node, ctx_};
    if (node.op_type() == "Constant") {
      if (node.output_size() != 1 || !index.constant(node.output(0)))
        nc.fail("only Constant nodes with a 'value' tensor are supported");
      continue;
    }
    if (node.op_type() == "Identity" && index.constant(node.output(0)))
      continue;  // readers see the source
    const auto fail = [&](const std::string& what) { nc.fail(what); };
    if (shape_values.is_shape_node(i)) {  // integers from shapes, for a Reshape
      shape_values.evaluate(
          node, ctx_,
          [&](const std::string& name) -> Shape {
            if (const auto it = env.find(name); it != env.end()) return it->second.shape;
            if (const auto* t = index.constant(name)) return Shape(t->dims().begin(), t->dims().end());
            nc.fail("input '" + name + "' is not available");
          },
          fail);
      for (const auto& in : node.input())
        if (!in.empty() && --remaining[in] == 0 && !index.is_graph_output(in)) env.erase(in);
      continue;
    }
    auto view = [&](int k) -> View {
      if (k >= node.input_size() || node.input(k).empty())
        nc.fail("missing input " + std::to_string(k));
      const std::string& name = node.input(k);
      if (const auto it = env.find(name); it != env.end())
        return View{it->second.shape, it->second.data.data(), it->second.data.size()};
      if (const auto it = constants_.find(index.source_name(name)); it != constants_.end()) {
        const auto* t = index.constant(name);
        return View{Shape(t->dims().begin(), t->dims().end()), it->second.data(),
                    it->second.size()};
      }
      nc.fail("input '" + name + "' is not available (computed later or not a float tensor)");
    };
    auto has_input = [&](int k) { return k < node.input_size() && !node.input(k).empty(); };
    // Input 0 as a tensor this node may overwrite: moved out of the environment
    // when this node is its last reader, copied otherwise.
    auto take = [&]() -> Tensor {
      const View x = view(0);
      const std::string& name = node.input(0);
      const auto it = env.find(name);
      int reads_here = 0;
      for (const auto& in : node.input()) reads_here += in == name;
      if (it != env.end() && remaining[name] == reads_here && !index.is_graph_output(name)) {
        Tensor t = std::move(it->second);
        env.erase(it);
        return t;
      }
      return Tensor{x.shape, std::vector<float>(x.data, x.data + x.size)};
    };
    const std::string& op = node.op_type();
    Tensor y;
    if (op == "Conv") {
      const int ci = conv_of_node_.at(i);
      const ConvSite& site = layout_.convs[ci];
      const ConvGeometry& g = site.conv.geom;
      const View x = view(0);
      if (x.shape != Shape{1, g.in_channels, g.in_h, g.in_w})
        nc.fail("input shape " + shape_text(x.shape) + " differs from the inferred [1," +
                std::to_string(g.in_channels) + "," + std::to_string(g.in_h) + "," +
                std::to_string(g.in_w) + "]");
      if (ranges) {
        const auto known = range_here.find(node.input(0));
        const float mx = known != range_here.end() ? known->second : absmax_of(x.data, x.size);
        (*ranges)[ci].input_absmax = std::max((*ranges)[ci].input_absmax, mx);
      }
      const float* bias = site.bias_name.empty() ? nullptr : constants_.at(site.bias_name).data();
      y.shape = {1, g.out_channels, g.out_h(), g.out_w()};
      y.data = allocate_floats(static_cast<std::size_t>(g.output_elements()));
      conv2d(g, x.data, conv_weights[ci].data(), bias, y.data.data());
    } else if (op == "BatchNormalization") {
      const View p[4] = {view(1), view(2), view(3), view(4)};
      y = take();
      batchnorm(nc, y, p);
    } else if (op == "Relu") {
      y = take();
      for (auto& v : y.data) v = v > 0.0f ? v : 0.0f;
    } else if (op == "Clip") {
      float lo = -INFINITY, hi = INFINITY;
      if (opset_ < 11) {
        lo = float_attribute(node, "min", lo);
        hi = float_attribute(node, "max", hi);
      } else {
        if (has_input(1)) lo = view(1).data[0];
        if (has_input(2)) hi = view(2).data[0];
      }
      y = take();
      for (auto& v : y.data) v = std::min(std::max(v, lo), hi);
    } else if (op == "MaxPool" || op == "AveragePool") {
      y = pool(nc, view(0), op == "MaxPool");
    } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      y = global_pool(nc, view(0), op == "GlobalMaxPool");
    } else if (op == "Add") {
      y = broadcast(nc, view(0), view(1), [](float a, float b) { return a + b; });
    } else if (op == "Sub") {
      y = broadcast(nc, view(0), view(1), [](float a, float b) { return a - b; });
    } else if (op == "Mul") {
      y = broadcast(nc, view(0), view(1), [](float a, float b) { return a * b; });
    } else if (op == "Div") {
      y = broadcast(nc, view(0), view(1), [](float a, float b) { return a / b; });
    } else if (op == "Gemm") {
      View c;
      if (has_input(2)) c = view(2);
      y = gemm(nc, view(0), view(1), has_input(2) ? &c : nullptr);
    } else if (op == "MatMul") {
      y = matmul(nc, view(0), view(1));
    } else if (op == "Flatten") {
      const View x = view(0);
      const std::int64_t axis = nc.axis(int_attribute(node, "axis", 1), x.shape.size());
      std::int64_t outer = 1;
      for (std::int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
      y = take();
      y.shape = {outer, numel(x.shape) / std::max<std::int64_t>(outer, 1)};
    } else if (op == "Reshape") {
      const View x = view(0);
      // A constant target shape, or one computed from shapes (shape_values.hpp).
      if (!has_input(1)) nc.fail("missing input 1 (the target shape)");
      Shape target = shape_values.value(node.input(1), ctx_, fail);
      const bool allow_zero = int_attribute(node, "allowzero", 0) != 0;
      std::int64_t known = 1, infer = -1;
      for (std::size_t d = 0; d < target.size(); ++d) {
        if (target[d] == 0 && !allow_zero) {
          if (d >= x.shape.size()) nc.fail("shape entry 0 has no input dimension to copy");
          target[d] = x.shape[d];
        }
        if (target[d] == -1) {
          if (infer >= 0) nc.fail("more than one -1 in the target shape");
          infer = static_cast<std::int64_t>(d);
        } else if (target[d] < 0) {
          nc.fail("bad target shape " + shape_text(target));
        } else {
          known *= target[d];
        }
      }
      if (infer >= 0) target[infer] = known > 0 ? numel(x.shape) / known : 0;
      if (numel(target) != numel(x.shape))
        nc.fail("cannot reshape " + shape_text(x.shape) + " to " + shape_text(target));
      y = take();
      y.shape = target;
    } else if (op == "Identity" || op == "Dropout") {
      y = take();
    } else if (op == "Softmax") {
      y = softmax(nc, view(0), opset_);
    } else if (op == "Concat") {
      std::vector<View> xs;
      for (int k = 0; k < node.input_size(); ++k) xs.push_back(view(k));
      y = concat(nc, xs);
    } else if (op == "Resize" || op == "Upsample") {
      const View x = view(0);
      ResizeConstants constants;
      constants.floats = [&](const std::string& name) -> const std::vector<float>* {
        const auto it = constants_.find(index.source_name(name));
        return it == constants_.end() ? nullptr : &it->second;
      };
      constants.ints = [&](const std::string& name) -> std::vector<std::int64_t> {
        const onnx::TensorProto* t = index.constant(name);
        return t ? decode_int_tensor(*t, ctx_) : std::vector<std::int64_t>{};
      };
      const NearestResize r = read_nearest_resize(node, opset_, x.shape, constants,
                                                  [&](const std::string& w) { nc.fail(w); });
      y = resize_nearest(nc, x, r);
    } else if (op == "DepthToSpace") {
      y = depth_to_space(nc, view(0));
    } else {
      nc.fail("operator is not supported by the float interpreter");
    }
    record_tensor(node.output(0), y, op, node.input_size() > 0 ? node.input(0) : std::string());
    record_output(node.output(0), y);
    env[node.output(0)] = std::move(y);
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      if (--remaining[in] == 0 && !index.is_graph_output(in)) env.erase(in);
    }
  }
  const std::string& out = graph.output(0).name();
  const auto it = env.find(out);
  if (it == env.end()) throw Error(ctx_.model_path, "graph output '" + out + "' was not computed");
  return std::move(it->second.data);
}

Calibration FloatInterpreter::calibrate(
    const std::vector<std::vector<float>>& conv_weights, int samples,
    const std::function<void(int, std::vector<float>&)>& fill) const {
  if (samples < 1)
    throw Error("calibration", "needs at least one sample, got " + std::to_string(samples));
  const std::int64_t n = numel(layout_.input_shape);
  if (layout_.input_shape.empty() || n <= 0)
    throw Error(ctx_.model_path, "graph input '" + layout_.input_name + "' has no static shape");
  Calibration calibration;
  calibration.convs.resize(layout_.convs.size());
  std::vector<float> input(static_cast<std::size_t>(n));
  for (int s = 0; s < samples; ++s) {
    fill(s, input);
    run(conv_weights, input, &calibration);
  }
  calibration.samples = samples;
  return calibration;
}

}  // namespace pcnn::onnx_detail
