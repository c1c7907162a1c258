#pragma once
// A trained CNN read from ONNX: the conv layers the pruner works on, the graph
// they sit in (for writing the pruned model back) and a float forward pass used
// to calibrate activation scales. See docs/onnx-support.md.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pcnn/core/conv_geometry.hpp"

namespace pcnn {

struct Int8Network;
struct SpmLayer;

struct FloatConv {
  std::string name;            // node name; its first output's name when the node is unnamed
  int index = 0;               // order among Conv nodes, topological
  ConvGeometry geom;           // in_h / in_w come from shape inference over the graph
  std::vector<float> weights;  // raw conv weights [M][C/group][kh][kw]
  std::vector<float> bias;     // [M], zeros when the node has none
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
  float input_absmax = 0.0f;   // range of the conv's input tensor (as TensorRange::absmax)
  float output_absmax = 0.0f;  // after BN and, when relu_follows, after ReLU
};

// Statistics of one tensor of the graph over a calibration pass.
struct TensorRange {
  // The range its int8 scale is taken from: the largest |x| seen, or, for the
  // output of an operator that keeps its input's scale (pooling, Relu, Clip,
  // Flatten, Reshape, Resize, DepthToSpace; docs/quantisation.md), its input's.
  float absmax = 0.0f;
  float min = 0.0f;                 // smallest value seen (>= 0: never negative)
  std::vector<std::int64_t> shape;  // as computed, batch 1
};

struct Calibration {
  std::vector<ConvActivationRange> convs;                // one per conv, convs() order
  std::unordered_map<std::string, TensorRange> tensors;  // the graph input and every node output
  int samples = 0;
};

struct LoadOptions {
  // NCHW shape of the graph input; empty: as declared. Gives free dimensions
  // (e.g. [1,3,?,?] of a fully convolutional model) their size.
  std::vector<std::int64_t> input_shape;
};

// "1x3x64x64" -> {1, 3, 64, 64}; throws pcnn::Error(option, ...) otherwise.
std::vector<std::int64_t> parse_input_shape(const std::string& text, const std::string& option);

class OnnxModel {
 public:
  // Reads and checks a model; throws pcnn::Error("<path>", "<what is wrong>").
  static OnnxModel load(const std::string& path, const LoadOptions& options = {});
  ~OnnxModel();
  OnnxModel(OnnxModel&&) noexcept;
  OnnxModel& operator=(OnnxModel&&) noexcept;

  const std::string& path() const;
  const std::string& graph_name() const;
  const std::vector<FloatConv>& convs() const;
  std::vector<std::int64_t> input_shape() const;  // NCHW of the graph input, batch 1
  const std::string& input_name() const;
  // What the reader decided on the user's behalf (e.g. a batch pinned to 1).
  const std::vector<std::string>& notes() const;
  // Conv flavours the accelerator does not run, as "ConvTranspose 'up1'".
  const std::vector<std::string>& unsupported_convs() const;

  // Writes the same graph with each conv's raw weights replaced (same order as
  // convs()); atomically (temporary file, then rename).
  void save_with_conv_weights(const std::vector<std::vector<float>>& conv_weights,
                              const std::string& path) const;

  // Float forward pass over the graph with the given conv weights on `samples`
  // seeded inputs drawn from N(0, 1); returns one range per conv.
  std::vector<ConvActivationRange> calibrate(const std::vector<std::vector<float>>& conv_weights,
                                             int samples, std::uint64_t seed) const;
  // The same, with the range of every tensor.
  Calibration calibrate_random(const std::vector<std::vector<float>>& conv_weights, int samples,
                               std::uint64_t seed) const;
  // Calibration on given inputs: fill(i, x) writes input i (NCHW, batch 1,
  // input_shape()) into x, for i in 0..samples-1.
  Calibration calibrate_with(const std::vector<std::vector<float>>& conv_weights, int samples,
                             const std::function<void(int, std::vector<float>&)>& fill) const;

  // The whole graph in integer form (docs/quantisation.md, "Whole networks"),
  // around the pruned conv layers (convs() order) with the tensor scales of a
  // calibration. Throws pcnn::Error naming the first node outside the int8
  // operator set.
  Int8Network int8_network(const std::vector<SpmLayer>& conv_layers,
                           const Calibration& calibration) const;

  // Float forward pass of one input (NCHW, batch 1); returns the graph output.
  std::vector<float> run(const std::vector<std::vector<float>>& conv_weights,
                         const std::vector<float>& input) const;

  // The implementation's state (src/onnx/onnx_model_impl.hpp), named here so
  // that the files implementing this class can share it.
  struct Impl;

 private:
  explicit OnnxModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcnn
