#pragma once
// A small float interpreter over an ONNX graph (batch 1, NCHW) for the layers
// CNN classifiers use; it runs the conv layers with caller-supplied weights and
// records activation ranges for calibration.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "onnx/onnx_pb.h"
#include "src/onnx/conv_layers.hpp"

namespace pcnn::onnx_detail {

class FloatInterpreter {
 public:
  // Throws pcnn::Error(ctx.model_path, ...) naming the first node whose op it
  // cannot run. All references must outlive the interpreter.
  FloatInterpreter(const onnx::ModelProto& model, const GraphLayout& layout,
                   const std::unordered_map<std::string, std::vector<float>>& constants,
                   const TensorContext& ctx);

  // The graph's first output for one input. When `ranges` is given, each conv's
  // max |input| and max |output after BN / ReLU| are folded into it.
  std::vector<float> run(const std::vector<std::vector<float>>& conv_weights,
                         const std::vector<float>& input,
                         std::vector<ConvActivationRange>* ranges) const;

  // Ranges over `samples` inputs drawn from N(0, 1) with a seeded generator.
  std::vector<ConvActivationRange> calibrate(const std::vector<std::vector<float>>& conv_weights,
                                             int samples, std::uint64_t seed) const;

 private:
  const onnx::ModelProto& model_;
  const GraphLayout& layout_;
  const std::unordered_map<std::string, std::vector<float>>& constants_;
  const TensorContext& ctx_;
  std::int64_t opset_ = 0;
  std::unordered_map<int, int> conv_of_node_;                        // node index -> conv index
  std::unordered_map<std::string, std::vector<int>> final_outputs_;  // tensor -> convs
  std::unordered_map<std::string, int> uses_;                        // reads per tensor
};

}  // namespace pcnn::onnx_detail
