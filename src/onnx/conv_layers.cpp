#include "src/onnx/conv_layers.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_map>

#include "onnx/shape_inference/implementation.h"

#include "pcnn/core/error.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "src/onnx/graph_index.hpp"

namespace pcnn::onnx_detail {
namespace {

using Shape = std::vector<std::int64_t>;  // -1 for an unknown dimension

Shape shape_of(const onnx::ValueInfoProto& v) {
  Shape s;
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return s;
  for (const auto& d : v.type().tensor_type().shape().dim())
    s.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return s;
}

// ONNX's shape inference for Conv and pooling divides by strides (and uses the
// other window attributes) unchecked: a zero stride in a corrupt file would
// crash it, so window attributes are checked before it runs.
void check_window_attributes(const onnx::ModelProto& model, const TensorContext& ctx) {
  static const char* const kWindowOps[] = {"Conv",    "ConvInteger", "QLinearConv", "ConvTranspose",
                                           "MaxPool", "AveragePool", "LpPool",      "MaxUnpool"};
  for (const auto& node : model.graph().node()) {
    if (std::find_if(std::begin(kWindowOps), std::end(kWindowOps),
                     [&](const char* op) { return node.op_type() == op; }) == std::end(kWindowOps))
      continue;
    for (const auto& a : node.attribute()) {
      const bool positive =
          a.name() == "strides" || a.name() == "dilations" || a.name() == "kernel_shape";
      if (!positive && a.name() != "pads") continue;
      for (const std::int64_t v : a.ints())
        if (positive ? v < 1 : v < 0)
          throw Error(ctx.model_path,
                      "node '" + node.name() + "' (" + node.op_type() + "): " + a.name() +
                          (positive ? " must be positive" : " must not be negative") + ", got " +
                          std::to_string(v));
    }
  }
}

// Float constants up to this many elements get their values back in the copy
// shape inference runs on: Resize / Upsample scales and similar small tensors
// decide output shapes, conv weights never do.
constexpr std::int64_t kShapeConstantElements = 4096;

void refill_small_constant(onnx::TensorProto& t, const std::string& key,
                           const FloatValues& values) {
  if (!is_float_type(t.data_type())) return;
  std::int64_t count = 1;
  for (auto d : t.dims()) count *= d;
  if (count > kShapeConstantElements) return;
  const std::vector<float>* v = values(key);
  if (!v || static_cast<std::int64_t>(v->size()) != count) return;
  std::string raw;
  encode_raw(v->data(), v->size(), t.data_type(), raw);
  t.set_raw_data(std::move(raw));
}

// Shapes of every tensor ONNX shape inference can find, on a copy of the model
// whose data input has the resolved shape `input_shape`. The user's value_info
// is kept (its symbolic dimensions become unknown), and so are the values of
// small float constants.
std::unordered_map<std::string, Shape> infer_shapes(const onnx::ModelProto& model,
                                                    const std::string& input,
                                                    const Shape& input_shape, bool batch_pinned,
                                                    const FloatValues& values,
                                                    const TensorContext& ctx) {
  onnx::ModelProto copy(model);
  auto* graph = copy.mutable_graph();
  for (auto& in : *graph->mutable_input()) {
    if (in.name() != input || !in.type().tensor_type().has_shape()) continue;
    auto* dims = in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
    for (int d = 0; d < dims->size() && d < static_cast<int>(input_shape.size()); ++d)
      if (input_shape[d] >= 0) dims->Mutable(d)->set_dim_value(input_shape[d]);
  }
  auto infos = [graph](int i) {
    return i < graph->value_info_size() ? graph->mutable_value_info(i)
                                        : graph->mutable_output(i - graph->value_info_size());
  };
  for (int i = 0; i < graph->value_info_size() + graph->output_size(); ++i) {
    onnx::ValueInfoProto& vi = *infos(i);
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) continue;
    auto* dims = vi.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
    for (int d = 0; d < dims->size(); ++d) {
      auto* dim = dims->Mutable(d);
      if (dim->has_dim_param() || (batch_pinned && d == 0)) dim->Clear();
    }
  }
  for (auto& init : *graph->mutable_initializer()) refill_small_constant(init, init.name(), values);
  for (auto& node : *graph->mutable_node()) {
    if (!is_onnx_op(node, "Constant") || node.output_size() != 1) continue;
    for (auto& attr : *node.mutable_attribute())
      if (attr.name() == "value" && attr.has_t())
        refill_small_constant(*attr.mutable_t(), node.output(0), values);
  }
  check_window_attributes(model, ctx);
  try {
    // Data propagation: a Reshape to a shape computed from other shapes
    // (Shape -> Gather -> Concat) gets a known output shape.
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(false, 0, true));
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw Error(ctx.model_path, "shape inference failed: " + what);
  }
  std::unordered_map<std::string, Shape> shapes;
  for (const auto& v : copy.graph().input()) shapes[v.name()] = shape_of(v);
  for (const auto& v : copy.graph().value_info()) shapes[v.name()] = shape_of(v);
  for (const auto& v : copy.graph().output()) shapes[v.name()] = shape_of(v);
  return shapes;
}

std::string dims_text(const Shape& s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i)
    t += (i ? "," : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return t + "]";
}

// Padding for auto_pad SAME_*: total = max(0, (ceil(in/s) - 1) * s + (k - 1) * d + 1 - in).
void same_padding(int in, int k, int s, int d, bool upper, int* begin, int* end) {
  const int out = (in + s - 1) / s;
  const int total = std::max(0, (out - 1) * s + (k - 1) * d + 1 - in);
  *begin = upper ? total / 2 : total - total / 2;
  *end = total - *begin;
}

ConvSite read_conv(const onnx::NodeProto& node, int node_index, int conv_index,
                   const GraphIndex& index, const std::unordered_map<std::string, Shape>& shapes,
                   const TensorContext& ctx) {
  ConvSite site;
  site.node_index = node_index;
  site.conv.index = conv_index;
  site.conv.name = node_label(node);
  const std::string where = "conv '" + site.conv.name + "'";
  auto fail = [&](const std::string& what) -> void {
    throw Error(ctx.model_path, where + ": " + what);
  };

  if (node.input_size() < 2 || node.input(1).empty()) fail("has no weight input");
  site.input_name = node.input(0);
  site.weight_name = index.source_name(node.input(1));
  if (node.input_size() > 2 && !node.input(2).empty())
    site.bias_name = index.source_name(node.input(2));
  const onnx::TensorProto* w = index.constant(site.weight_name);
  if (!w) fail("weight '" + site.weight_name + "' is neither an initializer nor a Constant output");
  if (w->data_type() == onnx::TensorProto::UNDEFINED)
    fail("weight '" + site.weight_name + "' has no data type");
  if (!is_float_type(w->data_type()))
    fail("weight '" + site.weight_name + "' has unsupported data type " +
         data_type_name(w->data_type()));
  const Shape wd(w->dims().begin(), w->dims().end());
  if (wd.size() != 4)
    fail("weight '" + site.weight_name + "' has shape " + dims_text(wd) +
         "; only 2-D convolutions (4-D weights) are supported");
  for (auto d : wd)
    if (d <= 0) fail("weight '" + site.weight_name + "' has shape " + dims_text(wd));

  ConvGeometry& g = site.conv.geom;
  g.out_channels = static_cast<int>(wd[0]);
  g.kernel_h = static_cast<int>(wd[2]);
  g.kernel_w = static_cast<int>(wd[3]);
  const auto kernel = ints_attribute(node, "kernel_shape", {wd[2], wd[3]});
  if (kernel != Shape{wd[2], wd[3]})
    fail("kernel_shape " + dims_text(kernel) + " disagrees with weight shape " + dims_text(wd));
  const auto strides = ints_attribute(node, "strides", {1, 1});
  const auto dilations = ints_attribute(node, "dilations", {1, 1});
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1)
    fail("bad strides " + dims_text(strides));
  if (dilations.size() != 2 || dilations[0] < 1 || dilations[1] < 1)
    fail("bad dilations " + dims_text(dilations));
  g.stride_h = static_cast<int>(strides[0]);
  g.stride_w = static_cast<int>(strides[1]);
  g.dilation_h = static_cast<int>(dilations[0]);
  g.dilation_w = static_cast<int>(dilations[1]);
  const auto group = int_attribute(node, "group", 1);
  if (group < 1 || wd[0] % group != 0)
    fail("group " + std::to_string(group) + " does not divide the " + std::to_string(wd[0]) +
         " output channels");
  g.group = static_cast<int>(group);

  const auto it = shapes.find(site.input_name);
  const Shape in = it == shapes.end() ? Shape{} : it->second;
  if (in.size() != 4 || in[1] < 0 || in[2] < 0 || in[3] < 0)
    fail("cannot infer the shape of its input '" + site.input_name + "' (got " + dims_text(in) +
         ")");
  g.in_channels = static_cast<int>(in[1]);
  g.in_h = static_cast<int>(in[2]);
  g.in_w = static_cast<int>(in[3]);
  if (wd[1] * group != in[1])
    fail("weight shape " + dims_text(wd) + " with group " + std::to_string(group) + " needs " +
         std::to_string(wd[1] * group) + " input channels; the input has " + std::to_string(in[1]));

  const std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto pads = ints_attribute(node, "pads", {0, 0, 0, 0});
    if (pads.size() != 4) fail("pads " + dims_text(pads) + " must have 4 entries");
    for (auto p : pads)
      if (p < 0) fail("negative pads " + dims_text(pads));
    g.pad_top = static_cast<int>(pads[0]);
    g.pad_left = static_cast<int>(pads[1]);
    g.pad_bottom = static_cast<int>(pads[2]);
    g.pad_right = static_cast<int>(pads[3]);
  } else if (auto_pad == "VALID") {
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const bool upper = auto_pad == "SAME_UPPER";
    same_padding(g.in_h, g.kernel_h, g.stride_h, g.dilation_h, upper, &g.pad_top, &g.pad_bottom);
    same_padding(g.in_w, g.kernel_w, g.stride_w, g.dilation_w, upper, &g.pad_left, &g.pad_right);
  } else {
    fail("unknown auto_pad '" + auto_pad + "'");
  }
  if (g.in_h + g.pad_top + g.pad_bottom < g.dilation_h * (g.kernel_h - 1) + 1 ||
      g.in_w + g.pad_left + g.pad_right < g.dilation_w * (g.kernel_w - 1) + 1)
    fail("kernel is larger than the padded input " + dims_text(in));

  if (!site.bias_name.empty()) {
    const onnx::TensorProto* b = index.constant(site.bias_name);
    if (!b) fail("bias '" + site.bias_name + "' is neither an initializer nor a Constant output");
    if (b->dims_size() != 1 || b->dims(0) != wd[0])
      fail("bias '" + site.bias_name + "' has shape " +
           dims_text(Shape(b->dims().begin(), b->dims().end())) + "; expected [" +
           std::to_string(wd[0]) + "]");
  }
  return site;
}

// The single node that reads `tensor`, when it is of `op_type` and `tensor` is
// not also a graph output; -1 otherwise.
int sole_consumer(const onnx::GraphProto& graph, const GraphIndex& index, const std::string& tensor,
                  const char* op_type) {
  const auto& users = index.consumers(tensor);
  if (users.size() != 1 || index.is_graph_output(tensor)) return -1;
  const auto& node = graph.node(users[0]);
  if (!is_onnx_op(node, op_type) || node.input_size() < 1 || node.input(0) != tensor) return -1;
  return users[0];
}

// Reads a following BatchNormalization as y = scale * x + shift, when all its
// parameters are constants of the right length.
bool read_batchnorm(const onnx::NodeProto& bn, const GraphIndex& index, const FloatValues& values,
                    int channels, FloatConv& conv) {
  if (bn.input_size() < 5 || bn.output_size() < 1) return false;
  const std::vector<float>* p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = values(index.source_name(bn.input(i + 1)));
    if (!p[i] || static_cast<int>(p[i]->size()) != channels) return false;
  }
  const float eps = float_attribute(bn, "epsilon", 1e-5f);
  conv.bn_scale.resize(channels);
  conv.bn_shift.resize(channels);
  for (int c = 0; c < channels; ++c) {
    const float gamma = (*p[0])[c], beta = (*p[1])[c], mean = (*p[2])[c], var = (*p[3])[c];
    conv.bn_scale[c] = gamma / std::sqrt(var + eps);
    conv.bn_shift[c] = beta - mean * conv.bn_scale[c];
  }
  conv.has_batchnorm = true;
  return true;
}

}  // namespace

GraphLayout analyse_graph(const onnx::ModelProto& model, const FloatValues& values,
                          const TensorContext& ctx, const std::vector<std::int64_t>& input_shape) {
  const auto& graph = model.graph();
  if (default_opset(model) == 0)
    throw Error(ctx.model_path, "model imports no opset for the ONNX domain");
  GraphIndex index(graph);
  GraphLayout layout;
  layout.input_name = index.data_input();
  if (layout.input_name.empty()) throw Error(ctx.model_path, "graph has no data input");

  bool any_conv = false;
  for (const auto& node : graph.node()) {
    if (node.output_size() == 0 || node.output(0).empty())
      throw Error(ctx.model_path,
                  "node '" + node.name() + "' (" + node.op_type() + ") has no output");
    any_conv = any_conv || is_onnx_op(node, "Conv");
    for (const char* flavour : {"ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv"})
      if (node.op_type() == flavour)
        layout.unsupported_convs.push_back(node.op_type() + " '" + node_label(node) + "'");
  }

  // The data input's shape: declared, or given by the caller.
  Shape declared;
  for (const auto& in : graph.input())
    if (in.name() == layout.input_name) declared = shape_of(in);
  const std::string input_where = "graph input '" + layout.input_name + "'";
  bool batch_pinned = false;
  if (input_shape.empty()) {
    layout.input_shape = declared;
    if (!declared.empty() && declared[0] < 0) layout.input_shape[0] = 1;
  } else {
    if (!declared.empty() && declared.size() != input_shape.size())
      throw Error(ctx.model_path, "input shape " + dims_text(input_shape) + " has rank " +
                                      std::to_string(input_shape.size()) + "; " + input_where +
                                      " is " + dims_text(declared));
    for (std::size_t d = 1; d < declared.size(); ++d)
      if (declared[d] >= 0 && declared[d] != input_shape[d])
        throw Error(ctx.model_path, "input shape " + dims_text(input_shape) + " disagrees with " +
                                        input_where + " " + dims_text(declared) + " in dimension " +
                                        std::to_string(d));
    layout.input_shape = input_shape;
  }
  if (!layout.input_shape.empty() && layout.input_shape[0] > 1) {
    layout.notes.push_back(input_where + " declares batch " +
                           std::to_string(layout.input_shape[0]) +
                           "; pinned to 1 (the accelerator runs one input at a time)");
    layout.input_shape[0] = 1;
  }
  batch_pinned = !declared.empty() && declared[0] > 1;
  if (!layout.input_shape.empty() && layout.input_shape[0] < 1)
    throw Error(ctx.model_path,
                "input shape " + dims_text(layout.input_shape) + ": batch must be 1");
  for (std::size_t d = 1; d < layout.input_shape.size(); ++d)
    if (layout.input_shape[d] == 0)
      throw Error(ctx.model_path,
                  input_where + " has an empty dimension " + dims_text(layout.input_shape));
  const bool free_dims = std::any_of(layout.input_shape.begin(), layout.input_shape.end(),
                                     [](std::int64_t d) { return d < 0; });
  if (any_conv && free_dims)
    throw Error(ctx.model_path, input_where + " has free dimensions " +
                                    dims_text(layout.input_shape) +
                                    "; give its shape with --input-shape (e.g. 1x3x224x224)");
  // Every tensor of a known shape within the size limit (docs/onnx-support.md),
  // before shape inference multiplies a huge input through the graph and long
  // before calibration allocates any of them.
  check_tensor_shape(ctx.model_path, input_where, layout.input_shape);
  std::unordered_map<std::string, Shape> shapes;
  if (any_conv)
    shapes = infer_shapes(model, layout.input_name, layout.input_shape, batch_pinned, values, ctx);
  for (const auto& node : graph.node())
    for (const auto& out : node.output())
      if (const auto s = shapes.find(out); s != shapes.end())
        check_tensor_shape(ctx.model_path, "node '" + node_label(node) + "' output '" + out + "'",
                           s->second);

  // Layer names select layers (--layer, --layers JSON), so two convs may not share one.
  std::unordered_map<std::string, int> conv_by_name;
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    if (!is_onnx_op(node, "Conv")) continue;
    ConvSite site = read_conv(node, i, static_cast<int>(layout.convs.size()), index, shapes, ctx);
    const auto [first, fresh] = conv_by_name.emplace(site.conv.name, i);
    if (!fresh)
      throw Error(ctx.model_path, "conv nodes " + std::to_string(first->second) + " and " +
                                      std::to_string(i) + " are both named '" + site.conv.name +
                                      "'; layer names must be unique (rename one node)");
    std::string out = node.output(0);
    const int bn = sole_consumer(graph, index, out, "BatchNormalization");
    if (bn >= 0 &&
        read_batchnorm(graph.node(bn), index, values, site.conv.geom.out_channels, site.conv)) {
      out = graph.node(bn).output(0);
      site.absorbed_nodes.push_back(bn);
    }
    const int relu = sole_consumer(graph, index, out, "Relu");
    if (relu >= 0) {
      site.conv.relu_follows = true;
      out = graph.node(relu).output(0);
      site.absorbed_nodes.push_back(relu);
    }
    site.final_output = out;
    if (!site.conv.has_batchnorm) {
      site.conv.bn_scale.assign(site.conv.geom.out_channels, 1.0f);
      site.conv.bn_shift.assign(site.conv.geom.out_channels, 0.0f);
    }
    layout.convs.push_back(std::move(site));
  }
  layout.shapes = std::move(shapes);
  return layout;
}

}  // namespace pcnn::onnx_detail
