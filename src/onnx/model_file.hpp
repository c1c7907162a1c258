#pragma once
// Reading an ONNX ModelProto from disk and writing one back atomically, with
// large float tensors streamed from memory instead of copied into the proto.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace pcnn::onnx_detail {

struct ModelFile {
  onnx::ModelProto model;
  // Per graph initializer (same order): its values when its float32 raw_data
  // was decoded while reading, in which case the proto holds no payload.
  std::vector<std::optional<std::vector<float>>> initializer_values;
};

// Reads `path` in one pass without a whole-file buffer; float32 initializer
// payloads go straight into float vectors. Throws pcnn::Error(path, ...) for a
// missing, unreadable or malformed file.
ModelFile read_model_file(const std::string& path);

// Supplies the values of tensors whose payload is not in the proto: `supplies`
// says which ones; `values` returns their element-count floats (the count
// follows from the dims), valid until the next call. They are written as
// raw_data in the tensor's data_type.
struct PayloadSource {
  std::function<bool(const onnx::TensorProto&)> supplies;
  std::function<const float*(const onnx::TensorProto&)> values;
};

// Serialises `model` to `path` through a temporary file in the same directory
// and a rename. Initializers whose payload `source` supplies are streamed; a
// Constant node's tensor is filled in a copy of that one node.
void write_model_file(const onnx::ModelProto& model, const PayloadSource& source,
                      const std::string& path);

}  // namespace pcnn::onnx_detail
