#pragma once
// Reading an ONNX ModelProto from disk and writing one back atomically, with
// large float tensors streamed from memory instead of copied into the proto.
#include <functional>
#include <string>

#include "onnx/onnx_pb.h"

namespace pcnn::onnx_detail {

// Parses `path` straight from the file (no whole-file buffer). Throws
// pcnn::Error(path, ...) for a missing, unreadable or malformed file.
onnx::ModelProto read_model_file(const std::string& path);

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
