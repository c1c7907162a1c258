// libFuzzer target: the ONNX model loader (pcnn-prune's input). Loading runs
// protobuf parsing, graph checks, shape inference and the conv/BN/ReLU matching.
#include <cstdint>

#include "fuzz_scratch.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/onnx/onnx_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pcnn::fuzz::write_scratch("model.onnx", data, size);
  try {
    const pcnn::OnnxModel model = pcnn::OnnxModel::load(path);
    (void)model.input_shape();
    for (const pcnn::FloatConv& c : model.convs()) (void)c.geom.kernel_count();
  } catch (const pcnn::Error&) {
  }
  return 0;
}
