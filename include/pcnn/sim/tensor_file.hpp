#pragma once
// Input activation tensors for pcnn-sim (docs/architecture.md, "Input tensor
// files"): little-endian header
//   bytes 0..3  magic "PCNT"
//   bytes 4..7  uint32 version (1)
//   bytes 8..19 uint32 C, H, W
// followed by exactly C*H*W int8 values in [C][H][W] order.
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn {

struct Int8Tensor {
  int c = 0, h = 0, w = 0;
  std::vector<std::int8_t> data;  // [C][H][W]
};

// Throws pcnn::Error(path, ...) on a missing, truncated or malformed file.
Int8Tensor read_tensor_file(const std::string& path);
// Writes to a temporary file, then renames; throws pcnn::Error(path, ...).
void write_tensor_file(const std::string& path, const Int8Tensor& t);

}  // namespace pcnn
