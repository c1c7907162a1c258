#pragma once
// Finds the Conv nodes of a graph, their geometry (input shapes from ONNX shape
// inference), where their weights come from, and the BatchNormalization / Relu
// that directly follow them.
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "onnx/onnx_pb.h"
#include "pcnn/onnx/onnx_model.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn::onnx_detail {

struct ConvSite {
  FloatConv conv;  // everything but weights and bias values
  int node_index = 0;
  std::string weight_name;          // initializer or Constant output
  std::string bias_name;            // "" when the node has no bias
  std::string input_name;           // the conv's activation input
  std::string final_output;         // after its BN and ReLU when they follow
  std::vector<int> absorbed_nodes;  // indices of the BN / Relu nodes folded into it
};

struct GraphLayout {
  std::string input_name;
  std::vector<std::int64_t> input_shape;  // NCHW, a symbolic batch read as 1
  std::vector<ConvSite> convs;
  // Conv flavours the accelerator does not run, as "ConvTranspose 'name'".
  std::vector<std::string> unsupported_convs;
  std::vector<std::string> notes;  // what the reader decided for the user (batch pinned)
  // Shapes from ONNX shape inference (-1 for an unknown dimension); empty
  // when the graph has no Conv.
  std::unordered_map<std::string, std::vector<std::int64_t>> shapes;
};

// Decoded float values of a constant tensor by name, or nullptr (e.g. when only
// the shapes are known).
using FloatValues = std::function<const std::vector<float>*(const std::string& name)>;

// Throws pcnn::Error(ctx.model_path, ...) when a conv's weight is not a
// constant, its shape disagrees with the attributes or the input, or the input
// shape cannot be inferred.
// `input_shape` (NCHW), when not empty, replaces the graph input's declared
// shape: free dimensions take its values, and a static batch above 1 may be
// pinned to 1; other static dimensions must agree with it.
GraphLayout analyse_graph(const onnx::ModelProto& model, const FloatValues& values,
                          const TensorContext& ctx,
                          const std::vector<std::int64_t>& input_shape = {});

}  // namespace pcnn::onnx_detail
