#pragma once
// A small float interpreter over an ONNX graph (batch 1, NCHW) for the layers
// CNN classifiers use; it runs the conv layers with caller-supplied weights and
// records activation ranges for calibration.
#include <cstdint>
#include <functional>
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

  // The graph's first output for one input. When `calibration` is given, the
  // ranges of this input are folded into it (see OnnxModel::calibrate).
  std::vector<float> run(const std::vector<std::vector<float>>& conv_weights,
                         const std::vector<float>& input, Calibration* calibration) const;

  // Ranges over `samples` inputs; fill(i, x) writes input i (NCHW, batch 1).
  Calibration calibrate(const std::vector<std::vector<float>>& conv_weights, int samples,
                        const std::function<void(int, std::vector<float>&)>& fill) const;

 private:
  const onnx::ModelProto& model_;
  const GraphLayout& layout_;
  const std::unordered_map<std::string, std::vector<float>>& constants_;
  const TensorContext& ctx_;
  std::int64_t opset_ = 0;
  std::unordered_map<int, int> conv_of_node_;                        // node index -> conv index
  std::unordered_map<std::string, std::vector<int>> final_outputs_;  // tensor -> convs
  std::unordered_map<std::string, int> uses_;                        // reads per tensor
  std::unordered_map<std::string, int> conv_of_final_;  // conv final output -> conv index
};

}  // namespace pcnn::onnx_detail
