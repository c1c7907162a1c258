#include "src/onnx/graph_index.hpp"

namespace pcnn::onnx_detail {

GraphIndex::GraphIndex(const onnx::GraphProto& graph) {
  for (const auto& init : graph.initializer()) constants_[init.name()] = &init;
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& node = graph.node(i);
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      auto& list = consumers_[in];
      if (list.empty() || list.back() != i) list.push_back(i);
    }
    if (is_onnx_op(node, "Constant") && node.output_size() == 1) {
      if (const auto* value = find_attribute(node, "value"); value && value->has_t())
        constants_[node.output(0)] = &value->t();
    }
    // Some exporters route weights through Identity; nodes are in topological
    // order, so the source is known by the time its Identity is seen.
    if (is_onnx_op(node, "Identity") && node.input_size() == 1 && node.output_size() == 1) {
      const auto src = constants_.find(node.input(0));
      if (src != constants_.end()) {
        constants_[node.output(0)] = src->second;
        aliases_[node.output(0)] = source_name(node.input(0));
      }
    }
  }
  for (const auto& out : graph.output()) outputs_.insert(out.name());
  for (const auto& in : graph.input()) {
    bool is_init = false;
    for (const auto& init : graph.initializer()) is_init = is_init || init.name() == in.name();
    if (!is_init) {
      data_input_ = in.name();
      break;
    }
  }
}

const onnx::TensorProto* GraphIndex::constant(const std::string& name) const {
  const auto it = constants_.find(name);
  return it == constants_.end() ? nullptr : it->second;
}

const std::string& GraphIndex::source_name(const std::string& name) const {
  const auto it = aliases_.find(name);
  return it == aliases_.end() ? name : it->second;
}

const std::vector<int>& GraphIndex::consumers(const std::string& name) const {
  static const std::vector<int> none;
  const auto it = consumers_.find(name);
  return it == consumers_.end() ? none : it->second;
}

bool is_onnx_op(const onnx::NodeProto& node, const char* op_type) {
  return node.op_type() == op_type && (node.domain().empty() || node.domain() == "ai.onnx");
}

std::string node_label(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  return node.output_size() > 0 ? node.output(0) : std::string("(unnamed ") + node.op_type() + ")";
}

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                         std::vector<std::int64_t> fallback) {
  const auto* a = find_attribute(node, name);
  if (!a) return fallback;
  return {a->ints().begin(), a->ints().end()};
}

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name,
                           std::int64_t fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->i() : fallback;
}

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->f() : fallback;
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& name,
                             const std::string& fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->s() : fallback;
}

std::int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}

}  // namespace pcnn::onnx_detail
