#pragma once
// The state behind pcnn::OnnxModel, shared by the files that implement it.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "onnx/onnx_pb.h"
#include "pcnn/onnx/onnx_model.hpp"
#include "src/onnx/conv_layers.hpp"
#include "src/onnx/tensor_data.hpp"

namespace pcnn {

struct OnnxModel::Impl {
  onnx_detail::TensorContext ctx;
  onnx::ModelProto model;  // float payloads dropped; they live below
  onnx_detail::GraphLayout layout;
  std::vector<FloatConv> convs;
  // Decoded float constants other than conv weights, by tensor name.
  std::unordered_map<std::string, std::vector<float>> floats;
  // Which conv holds a weight tensor's values.
  std::unordered_map<std::string, int> weight_owner;
  // Name under which each dropped tensor's values are kept.
  std::unordered_map<const onnx::TensorProto*, std::string> dropped;

  void decode_constants(std::vector<std::optional<std::vector<float>>>& initializer_values);
};

}  // namespace pcnn
