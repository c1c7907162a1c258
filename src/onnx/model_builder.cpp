// ModelBuilder: layers are recorded with their shapes; weights are described
// (seeded distribution or explicit values) and generated only when written.
#include "pcnn/onnx/model_builder.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "onnx/onnx_pb.h"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "src/onnx/conv_layers.hpp"
#include "src/onnx/model_file.hpp"
#include "src/onnx/seeded_random.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn {
namespace {

using Shape = std::vector<std::int64_t>;
constexpr const char* kWhere = "model builder";

struct TensorSpec {
  enum class Kind { values, normal, uniform, int64s };
  std::string name;
  Shape dims;
  Kind kind = Kind::values;
  float a = 0.0f, b = 0.0f;  // normal: std dev in a; uniform: [a, b]
  std::vector<float> values;
  std::vector<std::int64_t> ints;
};

std::int64_t product(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// FNV-1a, so a tensor's values depend on the seed and its name only.
std::uint64_t name_hash(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

onnx::AttributeProto ints_attr(const std::string& name, const Shape& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a.add_ints(x);
  return a;
}

onnx::AttributeProto int_attr(const std::string& name, std::int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto float_attr(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

onnx::AttributeProto string_attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

void set_value_info(onnx::ValueInfoProto* v, const std::string& name, const Shape& shape,
                    int elem_type) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* s = tt->mutable_shape();
  for (auto d : shape) s->add_dim()->set_dim_value(d);
}

}  // namespace

struct ModelBuilder::Impl {
  std::string graph_name;
  Shape input_shape;
  std::uint64_t seed;
  std::string input_name = "input";
  std::vector<onnx::NodeProto> nodes;
  std::vector<TensorSpec> tensors;
  std::unordered_map<std::string, Shape> shapes;
  std::vector<std::string> outputs;
  std::string last;
  std::map<std::string, int> counters;
  bool free_input_size = false;
  std::vector<std::string> value_infos;

  const Shape& shape_of(const std::string& t) const {
    const auto it = shapes.find(t);
    if (it == shapes.end()) throw Error(kWhere, "unknown tensor '" + t + "'");
    return it->second;
  }
  std::string node_name(const std::string& given, const std::string& op) {
    if (!given.empty()) return given;
    return op + "_" + std::to_string(counters[op]++);
  }
  std::string tensor(TensorSpec spec) {
    std::string name = spec.name;
    if (spec.kind == TensorSpec::Kind::values &&
        static_cast<std::int64_t>(spec.values.size()) != product(spec.dims))
      throw Error(kWhere, "tensor '" + name + "' gets " + std::to_string(spec.values.size()) +
                              " values; its shape needs " + std::to_string(product(spec.dims)));
    tensors.push_back(std::move(spec));
    return name;
  }
  std::string add_node(const std::string& op, const std::string& name,
                       const std::vector<std::string>& inputs, const Shape& out_shape,
                       std::vector<onnx::AttributeProto> attrs = {}) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(name);
    for (const auto& i : inputs) n.add_input(i);
    const std::string out = name + "_out";
    n.add_output(out);
    for (auto& a : attrs) *n.add_attribute() = std::move(a);
    nodes.push_back(std::move(n));
    shapes[out] = out_shape;
    last = out;
    return out;
  }

  std::vector<float> generate(const TensorSpec& t) const {
    if (t.kind == TensorSpec::Kind::values) return t.values;
    onnx_detail::SeededRandom rng(seed * 0x9e3779b97f4a7c15ull ^ name_hash(t.name));
    std::vector<float> v(static_cast<std::size_t>(product(t.dims)));
    if (t.kind == TensorSpec::Kind::normal) {
      for (auto& x : v) x = t.a * rng.normal();
    } else {
      for (auto& x : v) x = rng.uniform(t.a, t.b);
    }
    return v;
  }

  // The ModelProto without float payloads (they are streamed by the writer),
  // except for typed_fields where float_data is filled in.
  onnx::ModelProto proto(WeightStorage storage) const;
};

onnx::ModelProto ModelBuilder::Impl::proto(WeightStorage storage) const {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("pcnn");
  m.set_producer_version("0.1");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name(graph_name);
  const int float_type =
      storage == WeightStorage::float16 ? onnx::TensorProto::FLOAT16 : onnx::TensorProto::FLOAT;
  set_value_info(g->add_input(), input_name, input_shape, float_type);
  if (free_input_size) {
    auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    dims->mutable_dim(2)->set_dim_param("H");
    dims->mutable_dim(3)->set_dim_param("W");
  }
  for (const auto& v : value_infos) set_value_info(g->add_value_info(), v, shape_of(v), float_type);
  auto fill_header = [&](onnx::TensorProto* t, const TensorSpec& spec) {
    t->set_name(spec.name);
    for (auto d : spec.dims) t->add_dims(d);
    if (spec.kind == TensorSpec::Kind::int64s) {
      t->set_data_type(onnx::TensorProto::INT64);
      std::string raw(spec.ints.size() * 8, '\0');
      if (!spec.ints.empty()) std::memcpy(raw.data(), spec.ints.data(), raw.size());
      t->set_raw_data(raw);
    } else {
      t->set_data_type(float_type);
    }
  };
  for (const auto& spec : tensors) {
    const bool is_float = spec.kind != TensorSpec::Kind::int64s;
    if (storage == WeightStorage::constant_nodes && is_float) {
      auto* n = g->add_node();
      n->set_op_type("Constant");
      n->set_name(spec.name + "_constant");
      n->add_output(spec.name);
      auto* a = n->add_attribute();
      a->set_name("value");
      a->set_type(onnx::AttributeProto::TENSOR);
      fill_header(a->mutable_t(), spec);
      continue;
    }
    auto* t = g->add_initializer();
    fill_header(t, spec);
    if (storage == WeightStorage::typed_fields && is_float) {
      const auto v = generate(spec);
      t->mutable_float_data()->Add(v.begin(), v.end());
    }
  }
  for (const auto& n : nodes) *g->add_node() = n;
  std::vector<std::string> outs = outputs;
  if (outs.empty() && !last.empty()) outs.push_back(last);
  for (const auto& o : outs) {
    auto* v = g->add_output();
    set_value_info(v, o, shape_of(o), float_type);
    auto* dims = v->mutable_type()->mutable_tensor_type()->mutable_shape();
    if (free_input_size && dims->dim_size() == 4) {  // as exporters write free sizes
      dims->mutable_dim(2)->set_dim_param("H_out");
      dims->mutable_dim(3)->set_dim_param("W_out");
    }
  }
  return m;
}

ModelBuilder::ModelBuilder(std::string graph_name, std::vector<std::int64_t> input_nchw,
                           std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  if (input_nchw.size() != 4) throw Error(kWhere, "the input shape must be NCHW");
  impl_->graph_name = std::move(graph_name);
  impl_->input_shape = std::move(input_nchw);
  impl_->seed = seed;
  impl_->shapes[impl_->input_name] = impl_->input_shape;
}
ModelBuilder::~ModelBuilder() = default;
ModelBuilder::ModelBuilder(ModelBuilder&&) noexcept = default;
ModelBuilder& ModelBuilder::operator=(ModelBuilder&&) noexcept = default;

const std::string& ModelBuilder::input() const { return impl_->input_name; }
std::vector<std::int64_t> ModelBuilder::shape(const std::string& tensor) const {
  return impl_->shape_of(tensor);
}

std::string ModelBuilder::conv(const std::string& x, int out_channels, const ConvOptions& opt,
                               const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  if (in.size() != 4 || opt.group < 1 || in[1] % opt.group != 0)
    throw Error(kWhere, "conv input '" + x + "' does not suit group " + std::to_string(opt.group));
  const std::int64_t fan_in = in[1] / opt.group * opt.kernel * opt.kernel;
  const std::string n = impl_->node_name(name, "conv");
  TensorSpec w{n + ".weight",
               {out_channels, in[1] / opt.group, opt.kernel, opt.kernel},
               TensorSpec::Kind::normal,
               std::sqrt(2.0f / static_cast<float>(fan_in)),
               0.0f,
               {},
               {}};
  std::vector<std::string> inputs = {x, impl_->tensor(std::move(w))};
  if (opt.bias) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
    inputs.push_back(impl_->tensor(
        {n + ".bias", {out_channels}, TensorSpec::Kind::uniform, -bound, bound, {}, {}}));
  }
  const int k = opt.kernel, d = opt.dilation, s = opt.stride;
  const int pad = opt.pad >= 0 ? opt.pad : (k - 1) / 2 * d;
  std::vector<onnx::AttributeProto> attrs = {ints_attr("dilations", {d, d}),
                                             int_attr("group", opt.group),
                                             ints_attr("kernel_shape", {k, k})};
  Shape out = {in[0], out_channels, 0, 0};
  for (int i = 2; i < 4; ++i) {
    if (opt.auto_pad == "SAME_UPPER" || opt.auto_pad == "SAME_LOWER")
      out[i] = (in[i] + s - 1) / s;
    else if (opt.auto_pad == "VALID")
      out[i] = (in[i] - (k - 1) * d - 1) / s + 1;
    else
      out[i] = (in[i] + 2 * pad - (k - 1) * d - 1) / s + 1;
    if (out[i] <= 0) throw Error(kWhere, "conv '" + n + "' has no output pixels");
  }
  if (opt.auto_pad.empty())
    attrs.push_back(ints_attr("pads", {pad, pad, pad, pad}));
  else
    attrs.push_back(string_attr("auto_pad", opt.auto_pad));
  attrs.push_back(ints_attr("strides", {s, s}));
  return impl_->add_node("Conv", n, inputs, out, std::move(attrs));
}

std::string ModelBuilder::conv(const std::string& x, int out_channels, const ConvOptions& opt,
                               std::vector<float> weights, std::vector<float> bias,
                               const std::string& name) {
  const std::string out = conv(x, out_channels, opt, name);
  auto& node = impl_->nodes.back();
  auto& tensors = impl_->tensors;
  // Replace the seeded tensors made by the overload above with the given values.
  auto find = [&](const std::string& t) -> TensorSpec& {
    for (auto& s : tensors)
      if (s.name == t) return s;
    throw Error(kWhere, "missing tensor '" + t + "'");
  };
  TensorSpec& w = find(node.input(1));
  if (static_cast<std::int64_t>(weights.size()) != product(w.dims))
    throw Error(kWhere, "conv '" + node.name() + "' gets " + std::to_string(weights.size()) +
                            " weights; it needs " + std::to_string(product(w.dims)));
  w.kind = TensorSpec::Kind::values;
  w.values = std::move(weights);
  if (!bias.empty()) {
    if (static_cast<int>(bias.size()) != out_channels)
      throw Error(kWhere, "conv bias size differs from the channels");
    if (node.input_size() < 3) {
      node.add_input(impl_->tensor(
          {node.name() + ".bias", {out_channels}, TensorSpec::Kind::values, 0, 0, bias, {}}));
    } else {
      TensorSpec& b = find(node.input(2));
      b.kind = TensorSpec::Kind::values;
      b.values = std::move(bias);
    }
  }
  return out;
}

std::string ModelBuilder::batch_norm(const std::string& x, const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  const std::int64_t c = in.at(1);
  const std::string n = impl_->node_name(name, "bn");
  using K = TensorSpec::Kind;
  const std::string gamma = impl_->tensor({n + ".weight", {c}, K::uniform, 0.5f, 1.5f, {}, {}});
  const std::string beta = impl_->tensor({n + ".bias", {c}, K::uniform, -0.25f, 0.25f, {}, {}});
  const std::string mean =
      impl_->tensor({n + ".running_mean", {c}, K::uniform, -0.25f, 0.25f, {}, {}});
  const std::string var = impl_->tensor({n + ".running_var", {c}, K::uniform, 0.5f, 2.0f, {}, {}});
  return impl_->add_node("BatchNormalization", n, {x, gamma, beta, mean, var}, in,
                         {float_attr("epsilon", 1e-5f)});
}

std::string ModelBuilder::batch_norm(const std::string& x, std::vector<float> gamma,
                                     std::vector<float> beta, std::vector<float> mean,
                                     std::vector<float> var, float epsilon,
                                     const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  const std::int64_t c = in.at(1);
  const std::string n = impl_->node_name(name, "bn");
  using K = TensorSpec::Kind;
  const std::string g = impl_->tensor({n + ".weight", {c}, K::values, 0, 0, std::move(gamma), {}});
  const std::string b = impl_->tensor({n + ".bias", {c}, K::values, 0, 0, std::move(beta), {}});
  const std::string m =
      impl_->tensor({n + ".running_mean", {c}, K::values, 0, 0, std::move(mean), {}});
  const std::string v =
      impl_->tensor({n + ".running_var", {c}, K::values, 0, 0, std::move(var), {}});
  return impl_->add_node("BatchNormalization", n, {x, g, b, m, v}, in,
                         {float_attr("epsilon", epsilon)});
}

std::string ModelBuilder::relu(const std::string& x, const std::string& name) {
  return impl_->add_node("Relu", impl_->node_name(name, "relu"), {x}, impl_->shape_of(x));
}

namespace {
Shape pooled(const Shape& in, int k, int s, int p) {
  if (in.size() != 4) throw Error(kWhere, "pooling needs an NCHW input");
  Shape out = in;
  for (int i = 2; i < 4; ++i) out[i] = (in[i] + 2 * p - k) / s + 1;
  if (out[2] <= 0 || out[3] <= 0) throw Error(kWhere, "pooling window larger than its input");
  return out;
}
}  // namespace

std::string ModelBuilder::max_pool(const std::string& x, int kernel, int stride, int pad,
                                   const std::string& name) {
  return impl_->add_node(
      "MaxPool", impl_->node_name(name, "maxpool"), {x},
      pooled(impl_->shape_of(x), kernel, stride, pad),
      {ints_attr("kernel_shape", {kernel, kernel}), ints_attr("pads", {pad, pad, pad, pad}),
       ints_attr("strides", {stride, stride})});
}

std::string ModelBuilder::average_pool(const std::string& x, int kernel, int stride, int pad,
                                       const std::string& name) {
  return impl_->add_node(
      "AveragePool", impl_->node_name(name, "avgpool"), {x},
      pooled(impl_->shape_of(x), kernel, stride, pad),
      {ints_attr("kernel_shape", {kernel, kernel}), ints_attr("pads", {pad, pad, pad, pad}),
       ints_attr("strides", {stride, stride})});
}

std::string ModelBuilder::global_average_pool(const std::string& x, const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  return impl_->add_node("GlobalAveragePool", impl_->node_name(name, "gap"), {x},
                         {in.at(0), in.at(1), 1, 1});
}

std::string ModelBuilder::add(const std::string& a, const std::string& b, const std::string& name) {
  if (impl_->shape_of(a) != impl_->shape_of(b))
    throw Error(kWhere, "Add of tensors with different shapes");
  return impl_->add_node("Add", impl_->node_name(name, "add"), {a, b}, impl_->shape_of(a));
}

std::string ModelBuilder::flatten(const std::string& x, const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  return impl_->add_node("Flatten", impl_->node_name(name, "flatten"), {x},
                         {in.at(0), product(in) / in.at(0)}, {int_attr("axis", 1)});
}

std::string ModelBuilder::flatten_computed(const std::string& x, const std::string& name) {
  const std::string n = impl_->node_name(name, "view");
  const Shape& in = impl_->shape_of(x);
  auto ints = [&](const std::string& t, Shape dims, std::vector<std::int64_t> v) {
    return impl_->tensor({n + "." + t, std::move(dims), TensorSpec::Kind::int64s, 0, 0, {}, v});
  };
  const std::string shape =
      impl_->add_node("Shape", n + "_shape", {x}, {static_cast<std::int64_t>(in.size())});
  const std::string batch =
      impl_->add_node("Gather", n + "_gather", {shape, ints("index", {}, {0})}, {},
                      {int_attr("axis", 0)});
  const std::string batch_1d =
      impl_->add_node("Unsqueeze", n + "_unsqueeze", {batch, ints("axes", {1}, {0})}, {1});
  const std::string target =
      impl_->add_node("Concat", n + "_concat", {batch_1d, ints("rest", {1}, {-1})}, {2},
                      {int_attr("axis", 0)});
  return impl_->add_node("Reshape", n, {x, target}, {in.at(0), product(in) / in.at(0)});
}

std::string ModelBuilder::reshape(const std::string& x, std::vector<std::int64_t> target,
                                  const std::string& name) {
  const std::string n = impl_->node_name(name, "reshape");
  const Shape& in = impl_->shape_of(x);
  Shape out = target;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && i < in.size()) out[i] = in[i];  // 0 copies the input's dimension
    if (out[i] == -1)
      infer = static_cast<int>(i);
    else
      known *= out[i];
  }
  if (infer >= 0 && known > 0) out[infer] = product(in) / known;
  if (product(out) != product(in)) throw Error(kWhere, "reshape of '" + x + "' changes its size");
  const std::string shape = impl_->tensor({n + ".shape",
                                           {static_cast<std::int64_t>(target.size())},
                                           TensorSpec::Kind::int64s,
                                           0,
                                           0,
                                           {},
                                           target});
  return impl_->add_node("Reshape", n, {x, shape}, out);
}

std::string ModelBuilder::gemm(const std::string& x, int out_features, const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  if (in.size() != 2) throw Error(kWhere, "Gemm needs a 2-D input");
  const std::string n = impl_->node_name(name, "fc");
  const float bound = 1.0f / std::sqrt(static_cast<float>(in[1]));
  using K = TensorSpec::Kind;
  const std::string w =
      impl_->tensor({n + ".weight", {out_features, in[1]}, K::uniform, -bound, bound, {}, {}});
  const std::string b =
      impl_->tensor({n + ".bias", {out_features}, K::uniform, -bound, bound, {}, {}});
  return impl_->add_node(
      "Gemm", n, {x, w, b}, {in[0], out_features},
      {float_attr("alpha", 1.0f), float_attr("beta", 1.0f), int_attr("transB", 1)});
}

std::string ModelBuilder::gemm(const std::string& x, int out_features, std::vector<float> weights,
                               std::vector<float> bias, const std::string& name) {
  const Shape& in = impl_->shape_of(x);
  if (in.size() != 2) throw Error(kWhere, "Gemm needs a 2-D input");
  const std::string n = impl_->node_name(name, "fc");
  using K = TensorSpec::Kind;
  const std::string w = impl_->tensor(
      {n + ".weight", {out_features, in[1]}, K::values, 0, 0, std::move(weights), {}});
  const std::string b =
      impl_->tensor({n + ".bias", {out_features}, K::values, 0, 0, std::move(bias), {}});
  return impl_->add_node(
      "Gemm", n, {x, w, b}, {in[0], out_features},
      {float_attr("alpha", 1.0f), float_attr("beta", 1.0f), int_attr("transB", 1)});
}

std::string ModelBuilder::softmax(const std::string& x, const std::string& name) {
  return impl_->add_node("Softmax", impl_->node_name(name, "softmax"), {x}, impl_->shape_of(x),
                         {int_attr("axis", -1)});
}

std::string ModelBuilder::concat(const std::vector<std::string>& xs, const std::string& name) {
  if (xs.empty()) throw Error(kWhere, "Concat of nothing");
  Shape out = impl_->shape_of(xs[0]);
  out.at(1) = 0;
  for (const auto& x : xs) out[1] += impl_->shape_of(x).at(1);
  return impl_->add_node("Concat", impl_->node_name(name, "concat"), xs, out,
                         {int_attr("axis", 1)});
}

std::string ModelBuilder::resize_nearest(const std::string& x, int factor,
                                         const std::string& coordinate_mode,
                                         const std::string& nearest_mode, const std::string& name) {
  const std::string n = impl_->node_name(name, "resize");
  Shape out = impl_->shape_of(x);
  out.at(2) *= factor;
  out.at(3) *= factor;
  const float f = static_cast<float>(factor);
  const std::string scales =
      impl_->tensor({n + ".scales", {4}, TensorSpec::Kind::values, 0, 0, {1.0f, 1.0f, f, f}, {}});
  return impl_->add_node("Resize", n, {x, "", scales}, out,
                         {string_attr("mode", "nearest"),
                          string_attr("coordinate_transformation_mode", coordinate_mode),
                          string_attr("nearest_mode", nearest_mode)});
}

std::string ModelBuilder::depth_to_space(const std::string& x, int block, const std::string& mode,
                                         const std::string& name) {
  Shape out = impl_->shape_of(x);
  if (out.at(1) % (block * block) != 0) throw Error(kWhere, "DepthToSpace channels");
  out[1] /= block * block;
  out[2] *= block;
  out[3] *= block;
  return impl_->add_node("DepthToSpace", impl_->node_name(name, "d2s"), {x}, out,
                         {int_attr("blocksize", block), string_attr("mode", mode)});
}

std::string ModelBuilder::clip(const std::string& x, float lo, float hi, const std::string& name) {
  const std::string n = impl_->node_name(name, "clip");
  using K = TensorSpec::Kind;
  const std::string a = impl_->tensor({n + ".min", {}, K::values, 0, 0, {lo}, {}});
  const std::string b = impl_->tensor({n + ".max", {}, K::values, 0, 0, {hi}, {}});
  return impl_->add_node("Clip", n, {x, a, b}, impl_->shape_of(x));
}

void ModelBuilder::free_input_size() { impl_->free_input_size = true; }

void ModelBuilder::value_info(const std::string& tensor) {
  impl_->shape_of(tensor);
  impl_->value_infos.push_back(tensor);
}

std::string ModelBuilder::constant(const std::string& name, std::vector<std::int64_t> dims,
                                   std::vector<float> values) {
  if (impl_->shapes.count(name)) throw Error(kWhere, "tensor '" + name + "' exists already");
  impl_->shapes[name] = dims;
  return impl_->tensor(
      {name, std::move(dims), TensorSpec::Kind::values, 0, 0, std::move(values), {}});
}

std::string ModelBuilder::node(const std::string& op_type, const std::vector<std::string>& inputs,
                               std::vector<std::int64_t> output_shape, const std::string& name) {
  for (const auto& i : inputs) impl_->shape_of(i);
  return impl_->add_node(op_type, impl_->node_name(name, op_type), inputs, output_shape);
}

void ModelBuilder::output(const std::string& tensor) {
  impl_->shape_of(tensor);
  impl_->outputs.push_back(tensor);
}

void ModelBuilder::write(const std::string& path, WeightStorage storage) const {
  onnx::ModelProto m = impl_->proto(storage);
  std::unordered_map<std::string, const TensorSpec*> specs;
  for (const auto& t : impl_->tensors) specs[t.name] = &t;
  onnx_detail::PayloadSource source;
  std::vector<float> buffer;
  const bool streamed = storage == WeightStorage::raw_data || storage == WeightStorage::float16 ||
                        storage == WeightStorage::constant_nodes;
  source.supplies = [&](const onnx::TensorProto& t) {
    return streamed && t.data_type() != onnx::TensorProto::INT64 && specs.count(t.name()) > 0;
  };
  source.values = [&](const onnx::TensorProto& t) -> const float* {
    buffer = impl_->generate(*specs.at(t.name()));
    return buffer.data();
  };
  if (storage == WeightStorage::external_data) {
    // All float initializers go, one after the other, into "<file>.data".
    namespace fs = std::filesystem;
    const std::string data_path = path + ".data";
    const std::string location = fs::path(data_path).filename().string();
    OutputFile out(data_path, "the external weight data");
    std::uint64_t offset = 0;
    for (auto& t : *m.mutable_graph()->mutable_initializer()) {
      if (t.data_type() == onnx::TensorProto::INT64) continue;
      const auto values = impl_->generate(*specs.at(t.name()));
      std::string raw;
      onnx_detail::encode_raw(values.data(), values.size(), t.data_type(), raw);
      out.write(raw);
      t.set_data_location(onnx::TensorProto::EXTERNAL);
      auto add = [&t](const std::string& k, const std::string& v) {
        auto* e = t.add_external_data();
        e->set_key(k);
        e->set_value(v);
      };
      add("location", location);
      add("offset", std::to_string(offset));
      add("length", std::to_string(raw.size()));
      offset += raw.size();
    }
    out.commit();
  }
  onnx_detail::write_model_file(m, source, path);
}

NetworkSummary ModelBuilder::summary() const {
  const onnx::ModelProto m = impl_->proto(WeightStorage::raw_data);
  onnx_detail::TensorContext ctx{impl_->graph_name, ""};
  const auto layout = onnx_detail::analyse_graph(
      m, [](const std::string&) -> const std::vector<float>* { return nullptr; }, ctx);
  NetworkSummary s;
  s.input_shape = impl_->input_shape;
  s.conv_layers = static_cast<int>(layout.convs.size());
  for (const auto& c : layout.convs) {
    s.conv_params += c.conv.geom.weight_count();
    s.conv_macs += c.conv.geom.dense_macs();
  }
  for (const auto& t : impl_->tensors)
    if (t.kind != TensorSpec::Kind::int64s) s.params += product(t.dims);
  return s;
}

}  // namespace pcnn
