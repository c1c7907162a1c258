#pragma once
// A trained CNN read from ONNX: the conv layers the pruner works on, the graph
// they sit in (for writing the pruned model back) and a float forward pass used
// to calibrate activation scales. See docs/onnx-support.md.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pcnn/core/conv_geometry.hpp"

namespace pcnn {

struct FloatConv {
  std::string name;        // node name; its first output's name when the node is unnamed
  int index = 0;           // order among Conv nodes, topological
  ConvGeometry geom;       // in_h / in_w come from shape inference over the graph
  std::vector<float> weights;   // raw conv weights [M][C/group][kh][kw]
  std::vector<float> bias;      // [M], zeros when the node has none
  // A BatchNormalization that directly follows the conv, as a per-channel affine
  // map y = bn_scale * x + bn_shift (identity when there is none). Folding gives
  // weights * bn_scale[m] and bias * bn_scale[m] + bn_shift[m].
  bool has_batchnorm = false;
  std::vector<float> bn_scale;  // [M]
  std::vector<float> bn_shift;  // [M]
  bool relu_follows = false;    // a Relu consumes the conv (or its BN) output directly
};

// Activation statistics of one conv from a calibration pass.
struct ConvActivationRange {
  float input_absmax = 0.0f;   // over the conv's input tensor
  float output_absmax = 0.0f;  // after BN and, when relu_follows, after ReLU
};

class OnnxModel {
 public:
  // Reads and checks a model; throws pcnn::Error("<path>", "<what is wrong>").
  static OnnxModel load(const std::string& path);
  ~OnnxModel();
  OnnxModel(OnnxModel&&) noexcept;
  OnnxModel& operator=(OnnxModel&&) noexcept;

  const std::string& path() const;
  const std::string& graph_name() const;
  const std::vector<FloatConv>& convs() const;
  std::vector<std::int64_t> input_shape() const;  // NCHW of the graph input

  // Writes the same graph with each conv's raw weights replaced (same order as
  // convs()); atomically (temporary file, then rename).
  void save_with_conv_weights(const std::vector<std::vector<float>>& conv_weights,
                              const std::string& path) const;

  // Float forward pass over the graph with the given conv weights on `samples`
  // seeded inputs drawn from N(0, 1); returns one range per conv.
  std::vector<ConvActivationRange> calibrate(
      const std::vector<std::vector<float>>& conv_weights, int samples,
      std::uint64_t seed) const;

  // Float forward pass of one input (NCHW, batch 1); returns the graph output.
  std::vector<float> run(const std::vector<std::vector<float>>& conv_weights,
                         const std::vector<float>& input) const;

 private:
  struct Impl;
  explicit OnnxModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcnn
