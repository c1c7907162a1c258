#pragma once
// Lookup tables over an ONNX graph: constant tensors (initializers and Constant
// node values), the consumers of every tensor, node attributes.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "onnx/onnx_pb.h"

namespace pcnn::onnx_detail {

class GraphIndex {
 public:
  explicit GraphIndex(const onnx::GraphProto& graph);

  // The initializer or Constant-node value named `name` (also when reached
  // through Identity nodes), or nullptr.
  const onnx::TensorProto* constant(const std::string& name) const;
  // The name of the initializer or Constant output that `name` passes through
  // Identity nodes from; `name` itself otherwise.
  const std::string& source_name(const std::string& name) const;
  // Indices of the nodes that read `name`, in graph order.
  const std::vector<int>& consumers(const std::string& name) const;
  bool is_graph_output(const std::string& name) const { return outputs_.count(name) > 0; }
  // The first graph input that is not an initializer ("" when there is none).
  const std::string& data_input() const { return data_input_; }

 private:
  std::unordered_map<std::string, const onnx::TensorProto*> constants_;
  std::unordered_map<std::string, std::string> aliases_;  // Identity output -> source
  std::unordered_map<std::string, std::vector<int>> consumers_;
  std::unordered_set<std::string> outputs_;
  std::string data_input_;
};

// True for nodes of the default ONNX domain.
bool is_onnx_op(const onnx::NodeProto& node, const char* op_type);

// A node's name, or its first output's name when it has none.
std::string node_label(const onnx::NodeProto& node);

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name);
std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                         std::vector<std::int64_t> fallback);
std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name,
                           std::int64_t fallback);
float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback);
std::string string_attribute(const onnx::NodeProto& node, const std::string& name,
                             const std::string& fallback);

// The model's opset for the default domain (0 when it declares none).
std::int64_t default_opset(const onnx::ModelProto& model);

}  // namespace pcnn::onnx_detail
