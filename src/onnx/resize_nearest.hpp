#pragma once
// Nearest-neighbour Resize / Upsample: which input row and column every output
// pixel copies, from the node's attributes and constant scales or sizes. The
// float interpreter and the int8 network both gather with these tables, so
// the two agree by construction (docs/quantisation.md, "Resize").
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace pcnn::onnx_detail {

struct NearestResize {
  std::int64_t out_h = 0, out_w = 0;
  std::vector<std::int64_t> rows;  // [out_h]: source row of each output row
  std::vector<std::int64_t> cols;  // [out_w]: source column of each output column
};

// Constant inputs of the node by tensor name (nullptr when not a constant).
struct ResizeConstants {
  std::function<const std::vector<float>*(const std::string&)> floats;
  std::function<std::vector<std::int64_t>(const std::string&)> ints;  // empty: not constant
};

// For a Resize or Upsample node on a batch-1 NCHW input of `in_shape`. Throws
// `fail` (a message without location) for modes other than nearest, scales or
// sizes that change N or C, or scales that are not constants.
NearestResize read_nearest_resize(const onnx::NodeProto& node, std::int64_t opset,
                                  const std::vector<std::int64_t>& in_shape,
                                  const ResizeConstants& constants,
                                  const std::function<void(const std::string&)>& fail);

// Source index along one axis (ONNX Resize, mode nearest).
std::int64_t nearest_source(std::int64_t x, std::int64_t in_len, std::int64_t out_len, double scale,
                            const std::string& coordinate_mode, const std::string& nearest_mode);

}  // namespace pcnn::onnx_detail
