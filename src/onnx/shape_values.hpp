#pragma once
// Integer tensors an exported graph computes from other tensors' shapes. For
// `x.view(x.size(0), -1)` PyTorch writes Shape -> Gather -> Unsqueeze ->
// Concat (with a constant [-1]) -> Reshape. These nodes carry no activations:
// the float interpreter evaluates them from the shapes of the tensors it has
// computed, and the int8 network leaves them out (its Reshape takes the
// calibrated output shape).
//
// A node is a shape node when it is a Shape, or a Gather, Slice, Unsqueeze,
// Squeeze, Concat or Cast whose inputs are all shape values or integer
// constants, one of them at least a shape value. Values are kept as flat int64
// lists (what a Reshape reads); a Gather and a Slice (as TensorFlow exporters
// write x[:1]) take a 1-D list along axis 0.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "onnx/onnx_pb.h"
#include "src/onnx/graph_index.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn::onnx_detail {

// Elements start, start + step, ... before end of a 1-D list, with ONNX
// Slice's rules for negative and out-of-range positions (step != 0).
std::vector<std::int64_t> slice_values(const std::vector<std::int64_t>& data, std::int64_t start,
                                       std::int64_t end, std::int64_t step);

class ShapeValues {
 public:
  ShapeValues(const onnx::GraphProto& graph, const GraphIndex& index);

  bool is_shape_node(int node_index) const { return nodes_.count(node_index) > 0; }
  bool is_shape_value(const std::string& tensor) const { return tensors_.count(tensor) > 0; }

  // Evaluates shape node `node` of one run. `shape_of` gives the shape of a
  // computed tensor (a Shape node's input); `fail` reports a bad node and
  // does not return.
  void evaluate(const onnx::NodeProto& node, const TensorContext& ctx,
                const std::function<std::vector<std::int64_t>(const std::string&)>& shape_of,
                const std::function<void(const std::string&)>& fail);

  // The value of a shape value evaluated in this run, or of an integer
  // constant; fails for anything else.
  std::vector<std::int64_t> value(const std::string& tensor, const TensorContext& ctx,
                                  const std::function<void(const std::string&)>& fail) const;

 private:
  const GraphIndex& index_;
  std::unordered_set<int> nodes_;
  std::unordered_set<std::string> tensors_;
  std::unordered_map<std::string, std::vector<std::int64_t>> values_;  // of this run
};

}  // namespace pcnn::onnx_detail
