// OnnxModel: loading (decode every float constant once, drop its bytes from the
// kept proto), the conv view, and writing the graph back with new conv weights.
#include "pcnn/onnx/onnx_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include "pcnn/core/error.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "src/onnx/conv_layers.hpp"
#include "src/onnx/float_interpreter.hpp"
#include "src/onnx/graph_index.hpp"
#include "src/onnx/model_file.hpp"
#include "src/onnx/onnx_model_impl.hpp"
#include "src/onnx/seeded_random.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn {

using onnx_detail::TensorContext;

namespace {

// Replaces an external-data tensor the loader does not decode by inline raw_data,
// so that a written model does not point at files next to the source model.
void inline_external(onnx::TensorProto& t, const TensorContext& ctx) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return;
  std::string bytes = onnx_detail::read_external_payload(t, ctx);
  onnx_detail::drop_tensor_payload(t);
  t.set_raw_data(std::move(bytes));
}

// A float constant with a NaN or an infinity: weights, biases, batch
// normalisation parameters and scales of a trained model are finite, and a bad
// value would only surface later as a meaningless calibration range. An
// infinity is allowed where it means "no bound": the min / max inputs of Clip.
void check_finite_constants(const onnx::GraphProto& graph,
                            const std::unordered_map<std::string, std::vector<float>>& floats,
                            const TensorContext& ctx) {
  const onnx_detail::GraphIndex index(graph);
  auto check = [&](const std::string& name) {
    const auto it = floats.find(name);
    if (it == floats.end()) return;
    const std::vector<float>& v = it->second;
    const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
    if (bad == v.end()) return;
    std::string readers;
    bool only_bounds = true;
    for (const int n : index.consumers(name)) {
      const auto& node = graph.node(n);
      readers += (readers.empty() ? " (read by " : ", ") + node.op_type() + " '" +
                 onnx_detail::node_label(node) + "'";
      only_bounds = only_bounds && onnx_detail::is_onnx_op(node, "Clip") && node.input_size() > 0 &&
                    node.input(0) != name;
    }
    if (!readers.empty()) readers += ")";
    if (readers.empty()) only_bounds = false;
    const auto at = static_cast<std::size_t>(bad - v.begin());
    for (std::size_t i = at; i < v.size(); ++i)
      if (std::isnan(v[i]) || (std::isinf(v[i]) && !only_bounds))
        throw Error(ctx.model_path,
                    "tensor '" + name + "'" + readers + ": value " + std::to_string(i) + " of " +
                        std::to_string(v.size()) + " is " +
                        (std::isnan(v[i]) ? "NaN"
                         : v[i] > 0       ? "+Inf"
                                          : "-Inf") +
                        "; weights, biases and other float constants must be finite");
  };
  for (const auto& init : graph.initializer()) check(init.name());
  for (const auto& node : graph.node())
    if (onnx_detail::is_onnx_op(node, "Constant") && node.output_size() == 1) check(node.output(0));
}

}  // namespace

void OnnxModel::Impl::decode_constants(
    std::vector<std::optional<std::vector<float>>>& initializer_values) {
  auto take = [&](onnx::TensorProto& t, const std::string& key) {
    if (t.data_type() == onnx::TensorProto::UNDEFINED)
      throw Error(ctx.model_path, "tensor '" + key + "': missing data type");
    if (!onnx_detail::is_float_type(t.data_type())) {
      inline_external(t, ctx);
      return;
    }
    floats[key] = onnx_detail::decode_float_tensor(t, ctx);
    onnx_detail::drop_tensor_payload(t);
    dropped[&t] = key;
  };
  auto* graph = model.mutable_graph();
  for (int i = 0; i < graph->initializer_size(); ++i) {
    auto& init = *graph->mutable_initializer(i);
    if (i < static_cast<int>(initializer_values.size()) && initializer_values[i]) {
      floats[init.name()] = std::move(*initializer_values[i]);  // decoded while reading
      initializer_values[i].reset();
      dropped[&init] = init.name();
    } else {
      take(init, init.name());
    }
  }
  for (auto& node : *graph->mutable_node()) {
    if (!onnx_detail::is_onnx_op(node, "Constant") || node.output_size() != 1) continue;
    for (auto& attr : *node.mutable_attribute())
      if (attr.name() == "value" && attr.has_t()) take(*attr.mutable_t(), node.output(0));
  }
}

OnnxModel::OnnxModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnnxModel::~OnnxModel() = default;
OnnxModel::OnnxModel(OnnxModel&&) noexcept = default;
OnnxModel& OnnxModel::operator=(OnnxModel&&) noexcept = default;

OnnxModel OnnxModel::load(const std::string& path, const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->ctx.model_path = path;
  impl->ctx.model_dir = std::filesystem::path(path).parent_path().string();
  auto file = onnx_detail::read_model_file(path);
  impl->model = std::move(file.model);
  impl->decode_constants(file.initializer_values);
  check_finite_constants(impl->model.graph(), impl->floats, impl->ctx);
  Impl& m = *impl;
  m.layout = onnx_detail::analyse_graph(
      m.model,
      [&m](const std::string& name) -> const std::vector<float>* {
        const auto it = m.floats.find(name);
        return it == m.floats.end() ? nullptr : &it->second;
      },
      m.ctx, options.input_shape);
  for (auto& site : m.layout.convs) {
    FloatConv conv = site.conv;
    const auto owner = m.weight_owner.find(site.weight_name);
    if (owner != m.weight_owner.end()) {
      conv.weights = m.convs[owner->second].weights;
    } else {
      auto it = m.floats.find(site.weight_name);
      if (it == m.floats.end())
        throw Error(path, "conv '" + conv.name + "': weight '" + site.weight_name +
                              "' has no float values");
      conv.weights = std::move(it->second);
      m.floats.erase(it);
      m.weight_owner[site.weight_name] = conv.index;
    }
    if (site.bias_name.empty()) {
      conv.bias.assign(conv.geom.out_channels, 0.0f);
    } else {
      const auto b = m.floats.find(site.bias_name);
      if (b == m.floats.end())
        throw Error(path,
                    "conv '" + conv.name + "': bias '" + site.bias_name + "' has no float values");
      conv.bias = b->second;
    }
    for (int c = 0; conv.has_batchnorm && c < conv.geom.out_channels; ++c)
      if (!std::isfinite(conv.bn_scale[c]) || !std::isfinite(conv.bn_shift[c]))
        throw Error(path, "conv '" + conv.name +
                              "': the BatchNormalization after it gives channel " +
                              std::to_string(c) +
                              " a non-finite scale or shift (variance + epsilon must be positive)");
    m.convs.push_back(std::move(conv));
  }
  return OnnxModel(std::move(impl));
}

const std::string& OnnxModel::path() const { return impl_->ctx.model_path; }
const std::string& OnnxModel::graph_name() const { return impl_->model.graph().name(); }
const std::vector<FloatConv>& OnnxModel::convs() const { return impl_->convs; }
std::vector<std::int64_t> OnnxModel::input_shape() const { return impl_->layout.input_shape; }
const std::string& OnnxModel::input_name() const { return impl_->layout.input_name; }
const std::vector<std::string>& OnnxModel::notes() const { return impl_->layout.notes; }
const std::vector<std::string>& OnnxModel::unsupported_convs() const {
  return impl_->layout.unsupported_convs;
}

std::vector<std::int64_t> parse_input_shape(const std::string& text, const std::string& option) {
  std::vector<std::int64_t> dims;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t x = std::min(text.find('x', pos), text.size());
    const std::string part = text.substr(pos, x - pos);
    if (part.empty() || part.size() > 9 ||
        part.find_first_not_of("0123456789") != std::string::npos || std::stoll(part) < 1)
      throw Error(option, "'" + text + "' is not a shape like 1x3x64x64 (positive sizes)");
    dims.push_back(std::stoll(part));
    pos = x + 1;
  }
  if (dims.size() != 4) throw Error(option, "'" + text + "' must have 4 dimensions (NxCxHxW)");
  if (dims[0] != 1) throw Error(option, "'" + text + "': the batch must be 1");
  check_tensor_values(option, "'" + text + "'", tensor_values(dims));
  return dims;
}

namespace {

void check_weights(const std::vector<FloatConv>& convs,
                   const std::vector<std::vector<float>>& conv_weights, const std::string& where) {
  if (conv_weights.size() != convs.size())
    throw Error(where, "got weights for " + std::to_string(conv_weights.size()) +
                           " convs; the model has " + std::to_string(convs.size()));
  for (std::size_t i = 0; i < convs.size(); ++i)
    if (static_cast<std::int64_t>(conv_weights[i].size()) != convs[i].geom.weight_count())
      throw Error(where, "conv '" + convs[i].name + "': got " +
                             std::to_string(conv_weights[i].size()) + " weights; it has " +
                             std::to_string(convs[i].geom.weight_count()));
}

}  // namespace

void OnnxModel::save_with_conv_weights(const std::vector<std::vector<float>>& conv_weights,
                                       const std::string& path) const {
  check_weights(impl_->convs, conv_weights, path);
  const Impl& m = *impl_;
  onnx_detail::PayloadSource source;
  source.supplies = [&m](const onnx::TensorProto& t) { return m.dropped.count(&t) > 0; };
  source.values = [&](const onnx::TensorProto& t) -> const float* {
    const std::string& key = m.dropped.at(&t);
    const auto owner = m.weight_owner.find(key);
    return owner != m.weight_owner.end() ? conv_weights[owner->second].data()
                                         : m.floats.at(key).data();
  };
  onnx_detail::write_model_file(m.model, source, path);
}

std::vector<ConvActivationRange> OnnxModel::calibrate(
    const std::vector<std::vector<float>>& conv_weights, int samples, std::uint64_t seed) const {
  return calibrate_random(conv_weights, samples, seed).convs;
}

Calibration OnnxModel::calibrate_random(const std::vector<std::vector<float>>& conv_weights,
                                        int samples, std::uint64_t seed) const {
  onnx_detail::SeededRandom rng(seed);
  return calibrate_with(conv_weights, samples, [&rng](int, std::vector<float>& x) {
    for (auto& v : x) v = rng.normal();
  });
}

Calibration OnnxModel::calibrate_with(
    const std::vector<std::vector<float>>& conv_weights, int samples,
    const std::function<void(int, std::vector<float>&)>& fill) const {
  check_weights(impl_->convs, conv_weights, "calibration weights");
  const Impl& m = *impl_;
  onnx_detail::FloatInterpreter interpreter(m.model, m.layout, m.floats, m.ctx);
  return interpreter.calibrate(conv_weights, samples, fill);
}

std::vector<float> OnnxModel::run(const std::vector<std::vector<float>>& conv_weights,
                                  const std::vector<float>& input) const {
  check_weights(impl_->convs, conv_weights, "run weights");
  const Impl& m = *impl_;
  onnx_detail::FloatInterpreter interpreter(m.model, m.layout, m.floats, m.ctx);
  return interpreter.run(conv_weights, input, nullptr);
}

}  // namespace pcnn
