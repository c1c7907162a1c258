// OnnxModel::int8_network: the graph walked node by node into the integer
// operator set of docs/quantisation.md, with every tensor's scale taken from
// a calibration pass.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "pcnn/core/error.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/prune/quantise.hpp"
#include "src/onnx/graph_index.hpp"
#include "src/onnx/onnx_model_impl.hpp"
#include "src/onnx/resize_nearest.hpp"
#include "src/onnx/shape_values.hpp"

namespace pcnn {
namespace {

using onnx_detail::find_attribute;
using onnx_detail::float_attribute;
using onnx_detail::int_attribute;
using onnx_detail::ints_attribute;
using onnx_detail::is_onnx_op;
using onnx_detail::node_label;
using onnx_detail::string_attribute;

// int8 bound for a real clip value: round half away from zero, within -128..127.
int clip_bound(float v, float scale) {
  if (std::isinf(v)) return v < 0 ? -128 : 127;
  const double q = std::round(static_cast<double>(v) / scale);
  return static_cast<int>(std::min(127.0, std::max(-128.0, q)));
}

class Builder {
 public:
  Builder(const OnnxModel::Impl& m, const std::vector<SpmLayer>& layers, const Calibration& cal)
      : m_(m),
        layers_(layers),
        cal_(cal),
        index_(m.model.graph()),
        shape_values_(m.model.graph(), index_) {}

  Int8Network build() {
    const auto& graph = m_.model.graph();
    if (cal_.tensors.empty())
      throw Error(m_.ctx.model_path,
                  "the whole network needs a calibration pass (no tensor ranges)");
    if (layers_.size() != m_.layout.convs.size())
      throw Error(m_.ctx.model_path, "got " + std::to_string(layers_.size()) + " conv layers for " +
                                         std::to_string(m_.layout.convs.size()) + " convs");
    std::unordered_map<int, int> conv_at;
    std::unordered_set<int> absorbed;
    for (const auto& site : m_.layout.convs) {
      conv_at[site.node_index] = site.conv.index;
      absorbed.insert(site.absorbed_nodes.begin(), site.absorbed_nodes.end());
    }
    net_.input = calibrated(m_.layout.input_name);
    const std::string& out_name = graph.output(0).name();
    for (int i = 0; i < graph.node_size(); ++i) {
      const auto& node = graph.node(i);
      // Integers computed from shapes feed a Reshape's target, not activations.
      if (absorbed.count(i) || is_onnx_op(node, "Constant") || shape_values_.is_shape_node(i))
        continue;
      node_ = &node;
      const std::string& op = node.op_type();
      const bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      if (!default_domain)
        fail("operator " + node.domain() + "." + op + " is outside the int8 operator set");
      if (op == "Identity" || op == "Dropout") {
        if (!index_.constant(node.output(0))) alias(node.output(0), input(0));
      } else if (op == "Conv") {
        conv(conv_at.at(i));
      } else if (op == "Relu") {
        NetNode& n = unary(Int8Op::relu);
        n.lo = 0;
      } else if (op == "Clip") {
        clip();
      } else if (op == "MaxPool" || op == "AveragePool") {
        pool(op == "MaxPool");
      } else if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
        unary(op == "GlobalMaxPool" ? Int8Op::global_max_pool : Int8Op::global_average_pool,
              shape_of(node.output(0)));
      } else if (op == "Add") {
        add();
      } else if (op == "Concat") {
        concat();
      } else if (op == "Flatten" || op == "Reshape") {
        unary(Int8Op::reshape, shape_of(node.output(0)));
      } else if (op == "Gemm" || op == "MatMul") {
        gemm(op == "Gemm");
      } else if (op == "Resize" || op == "Upsample") {
        resize();
      } else if (op == "DepthToSpace") {
        NetNode& n = unary(Int8Op::depth_to_space, shape_of(node.output(0)));
        n.block = static_cast<int>(int_attribute(node, "blocksize", 0));
        n.crd = string_attribute(node, "mode", "DCR") == "CRD";
      } else if (op == "Softmax" && node.output(0) == out_name) {
        net_.dropped_softmax = node_label(node);  // keeps the order of the classes
        alias(node.output(0), input(0));
      } else {
        fail("operator " + op + " is outside the int8 operator set (docs/quantisation.md)");
      }
    }
    const auto it = have_.find(out_name);
    if (it == have_.end())
      throw Error(m_.ctx.model_path, "graph output '" + out_name + "' is not computed");
    net_.output = it->second;
    net_.validate(layers_, m_.ctx.model_path);
    return std::move(net_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(m_.ctx.model_path,
                "node '" + node_label(*node_) + "' (" + node_->op_type() + "): " + what);
  }

  std::vector<std::int64_t> shape_of(const std::string& name) const {
    const auto it = cal_.tensors.find(name);
    if (it == cal_.tensors.end()) fail("tensor '" + name + "' was not calibrated");
    return it->second.shape;
  }

  // A new tensor with the calibrated scale of `name`.
  int calibrated(const std::string& name) {
    const auto it = cal_.tensors.find(name);
    if (it == cal_.tensors.end())
      throw Error(m_.ctx.model_path, "tensor '" + name + "' was not calibrated");
    return tensor(name, it->second.shape, symmetric_scale(it->second.absmax),
                  it->second.min >= 0.0f);
  }

  int tensor(const std::string& name, std::vector<std::int64_t> shape, float scale, bool non_neg) {
    NetTensor t{name, std::move(shape), scale, non_neg};
    net_.tensors.push_back(std::move(t));
    const int i = static_cast<int>(net_.tensors.size()) - 1;
    have_[name] = i;
    return i;
  }

  void alias(const std::string& name, int t) { have_[name] = t; }

  int input(int k) const {
    if (k >= node_->input_size() || node_->input(k).empty())
      fail("missing input " + std::to_string(k));
    const auto it = have_.find(node_->input(k));
    if (it == have_.end())
      fail("input '" + node_->input(k) + "' is a constant or not computed by the int8 network");
    return it->second;
  }

  NetNode& emit(Int8Op op, std::vector<int> inputs, int output, const std::string& name) {
    NetNode n;
    n.op = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.output = output;
    net_.nodes.push_back(std::move(n));
    return net_.nodes.back();
  }

  // An operator that keeps its input's scale.
  NetNode& unary(Int8Op op, std::vector<std::int64_t> shape = {}) {
    const int x = input(0);
    const NetTensor in = net_.tensors[x];
    if (shape.empty()) shape = in.shape;
    const bool non_neg = in.non_negative || op == Int8Op::relu;
    const int y = tensor(node_->output(0), shape, in.scale, non_neg);
    return emit(op, {x}, y, node_label(*node_));
  }

  // `x` at scale `scale`: itself, or a bridge to it.
  int at_scale(int x, float scale, const std::string& user) {
    const NetTensor in = net_.tensors[x];
    if (in.scale == scale) return x;
    const int y = tensor(in.name + "@" + user, in.shape, scale, in.non_negative);
    NetNode& n = emit(Int8Op::rescale, {x}, y, user);
    n.rescale = make_rescale({static_cast<double>(in.scale) / scale});
    return y;
  }

  void conv(int c) {
    const SpmLayer& layer = layers_[static_cast<std::size_t>(c)];
    const auto& site = m_.layout.convs[static_cast<std::size_t>(c)];
    const int x = at_scale(input(0), layer.input_scale, node_label(*node_));
    const ConvGeometry& g = layer.geom;
    const auto it = cal_.tensors.find(site.final_output);
    const bool non_neg = layer.relu || (it != cal_.tensors.end() && it->second.min >= 0.0f);
    const int y = tensor(site.final_output, {1, g.out_channels, g.out_h(), g.out_w()},
                         layer.output_scale, non_neg);
    emit(Int8Op::conv, {x}, y, layer.name).layer = c;
  }

  void clip() {
    const float s = net_.tensors[input(0)].scale;
    float lo = -INFINITY, hi = INFINITY;
    auto bound = [&](int k, float fallback) {
      if (k >= node_->input_size() || node_->input(k).empty()) return fallback;
      const auto v = m_.floats.find(index_.source_name(node_->input(k)));
      if (v == m_.floats.end() || v->second.size() != 1) fail("bounds must be float constants");
      return v->second[0];
    };
    if (onnx_detail::default_opset(m_.model) < 11) {
      lo = float_attribute(*node_, "min", lo);
      hi = float_attribute(*node_, "max", hi);
    } else {
      lo = bound(1, lo);
      hi = bound(2, hi);
    }
    NetNode& n = unary(Int8Op::clip);
    n.lo = clip_bound(lo, s);
    n.hi = clip_bound(hi, s);
    if (n.lo > n.hi) fail("empty clip range");
    if (n.lo >= 0) net_.tensors[n.output].non_negative = true;
  }

  void pool(bool is_max) {
    const auto kernel = ints_attribute(*node_, "kernel_shape", {});
    const auto strides = ints_attribute(*node_, "strides", {1, 1});
    const auto pads = ints_attribute(*node_, "pads", {0, 0, 0, 0});
    const auto dil =
        is_max ? ints_attribute(*node_, "dilations", {1, 1}) : std::vector<std::int64_t>{1, 1};
    if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4 || dil.size() != 2)
      fail("only 2-D pooling is supported");
    const std::string auto_pad = string_attribute(*node_, "auto_pad", "NOTSET");
    const NetTensor in = net_.tensors[input(0)];
    const auto out = shape_of(node_->output(0));
    NetNode& n = unary(is_max ? Int8Op::max_pool : Int8Op::average_pool, out);
    n.kernel_h = static_cast<int>(kernel[0]);
    n.kernel_w = static_cast<int>(kernel[1]);
    n.stride_h = static_cast<int>(strides[0]);
    n.stride_w = static_cast<int>(strides[1]);
    n.dilation_h = static_cast<int>(dil[0]);
    n.dilation_w = static_cast<int>(dil[1]);
    n.count_include_pad = int_attribute(*node_, "count_include_pad", 0) != 0;
    if (auto_pad == "NOTSET") {
      n.pad_top = static_cast<int>(pads[0]);
      n.pad_left = static_cast<int>(pads[1]);
      n.pad_bottom = static_cast<int>(pads[2]);
      n.pad_right = static_cast<int>(pads[3]);
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      auto same = [&](std::int64_t len, std::int64_t o, int k, int s, int d, int* b, int* e) {
        const std::int64_t total = std::max<std::int64_t>(0, (o - 1) * s + (k - 1) * d + 1 - len);
        *b = static_cast<int>(auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2);
        *e = static_cast<int>(total) - *b;
      };
      same(in.shape[2], out[2], n.kernel_h, n.stride_h, n.dilation_h, &n.pad_top, &n.pad_bottom);
      same(in.shape[3], out[3], n.kernel_w, n.stride_w, n.dilation_w, &n.pad_left, &n.pad_right);
    } else if (auto_pad != "VALID") {
      fail("unknown auto_pad '" + auto_pad + "'");
    }
  }

  void add() {
    const int a = input(0), b = input(1);
    if (net_.tensors[a].shape != net_.tensors[b].shape)
      fail("adds tensors of different shapes (broadcasting is outside the int8 set)");
    const int y = calibrated(node_->output(0));
    const float s = net_.tensors[y].scale;
    NetNode& n = emit(Int8Op::add, {a, b}, y, node_label(*node_));
    n.rescale = make_rescale({static_cast<double>(net_.tensors[a].scale) / s,
                              static_cast<double>(net_.tensors[b].scale) / s});
  }

  void concat() {
    std::vector<int> xs;
    for (int k = 0; k < node_->input_size(); ++k) xs.push_back(input(k));
    const auto rank = static_cast<std::int64_t>(net_.tensors[xs[0]].shape.size());
    std::int64_t axis = int_attribute(*node_, "axis", 1);
    if (axis < 0) axis += rank;
    if (rank != 4 || axis != 1)
      fail("only concatenation of NCHW tensors along channels is supported");
    const int y = calibrated(node_->output(0));
    const float s = net_.tensors[y].scale;
    std::vector<double> ratios;
    bool non_neg = true;
    for (int x : xs) {
      ratios.push_back(static_cast<double>(net_.tensors[x].scale) / s);
      non_neg = non_neg && net_.tensors[x].non_negative;
    }
    net_.tensors[y].non_negative = non_neg;
    NetNode& n = emit(Int8Op::concat, xs, y, node_label(*node_));
    n.rescale = make_rescale(ratios);
  }

  const std::vector<float>& constant_floats(int k) const {
    if (k >= node_->input_size()) fail("missing input " + std::to_string(k));
    const auto it = m_.floats.find(index_.source_name(node_->input(k)));
    if (it == m_.floats.end()) fail("input " + std::to_string(k) + " must be a float constant");
    return it->second;
  }

  void gemm(bool is_gemm) {
    const int x = input(0);
    const NetTensor in = net_.tensors[x];
    if (in.shape.size() != 2 || in.shape[0] != 1)
      fail("needs a [1,K] input, got a different shape");
    const std::int64_t K = in.shape[1];
    const onnx::TensorProto* bt = index_.constant(node_->input(1));
    if (!bt || bt->dims_size() != 2) fail("needs a constant 2-D weight");
    const std::vector<float>& B = constant_floats(1);
    const bool trans_a = is_gemm && int_attribute(*node_, "transA", 0) != 0;
    const bool trans_b = is_gemm && int_attribute(*node_, "transB", 0) != 0;
    if (trans_a) fail("transA is not supported");
    const float alpha = is_gemm ? float_attribute(*node_, "alpha", 1.0f) : 1.0f;
    const float beta = is_gemm ? float_attribute(*node_, "beta", 1.0f) : 1.0f;
    const std::int64_t N = trans_b ? bt->dims(0) : bt->dims(1);
    if ((trans_b ? bt->dims(1) : bt->dims(0)) != K)
      fail("weight does not match the input features");
    std::vector<float> bias(static_cast<std::size_t>(N), 0.0f);
    if (is_gemm && node_->input_size() > 2 && !node_->input(2).empty()) {
      const std::vector<float>& c = constant_floats(2);
      if (c.size() != 1 && static_cast<std::int64_t>(c.size()) != N)
        fail("bias must have N values");
      for (std::int64_t n = 0; n < N; ++n) bias[n] = beta * c[c.size() == 1 ? 0 : n];
    }
    const int y = calibrated(node_->output(0));
    SpmLayer l;
    l.name = node_label(*node_);
    l.index = static_cast<int>(net_.gemm_layers.size());
    l.geom.in_channels = static_cast<int>(K);
    l.geom.out_channels = static_cast<int>(N);
    l.geom.in_h = l.geom.in_w = 1;
    l.geom.kernel_h = l.geom.kernel_w = 1;
    l.pattern_pruned = false;
    l.n = 1;
    l.input_scale = in.scale;
    l.output_scale = net_.tensors[y].scale;
    auto w = [&](std::int64_t n, std::int64_t k) {
      return alpha * B[static_cast<std::size_t>(trans_b ? n * K + k : k * N + n)];
    };
    for (std::int64_t n = 0; n < N; ++n) {
      float absmax = 0.0f;
      for (std::int64_t k = 0; k < K; ++k) absmax = std::max(absmax, std::fabs(w(n, k)));
      const float ws = symmetric_scale(absmax);
      l.weight_scale.push_back(ws);
      for (std::int64_t k = 0; k < K; ++k) l.nonzeros.push_back(quantise_weight(w(n, k), ws));
      l.bias.push_back(quantise_bias(bias[n], l.input_scale, ws));
      try {
        l.requant.push_back(
            requant_from_real(static_cast<double>(l.input_scale) * ws / l.output_scale));
      } catch (const Error& e) {
        fail(e.what());
      }
    }
    l.validate();
    net_.gemm_layers.push_back(std::move(l));
    emit(Int8Op::gemm, {x}, y, node_label(*node_)).layer =
        static_cast<int>(net_.gemm_layers.size()) - 1;
  }

  void resize() {
    const NetTensor in = net_.tensors[input(0)];
    onnx_detail::ResizeConstants constants;
    constants.floats = [&](const std::string& name) -> const std::vector<float>* {
      const auto it = m_.floats.find(index_.source_name(name));
      return it == m_.floats.end() ? nullptr : &it->second;
    };
    constants.ints = [&](const std::string& name) -> std::vector<std::int64_t> {
      const onnx::TensorProto* t = index_.constant(name);
      return t ? onnx_detail::decode_int_tensor(*t, m_.ctx) : std::vector<std::int64_t>{};
    };
    const auto r =
        onnx_detail::read_nearest_resize(*node_, onnx_detail::default_opset(m_.model), in.shape,
                                         constants, [&](const std::string& w) { fail(w); });
    NetNode& n = unary(Int8Op::resize_nearest, {1, in.shape[1], r.out_h, r.out_w});
    n.rows = r.rows;
    n.cols = r.cols;
  }

  const OnnxModel::Impl& m_;
  const std::vector<SpmLayer>& layers_;
  const Calibration& cal_;
  onnx_detail::GraphIndex index_;
  onnx_detail::ShapeValues shape_values_;  // after index_, which it reads
  const onnx::NodeProto* node_ = nullptr;
  std::unordered_map<std::string, int> have_;
  Int8Network net_;
};

}  // namespace

Int8Network OnnxModel::int8_network(const std::vector<SpmLayer>& conv_layers,
                                    const Calibration& calibration) const {
  Builder b(*impl_, conv_layers, calibration);
  return b.build();
}

}  // namespace pcnn
