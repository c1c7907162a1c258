#pragma once
// Builds small-to-large CNN graphs as ONNX files: the model zoo uses it, and
// tests use it to emit the storage variants real exporters produce (typed
// fields, float16, Constant nodes, external data). Weights are seeded and made
// only when the file is written, so summaries of big models cost nothing.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pcnn {

// How float tensors are stored in the written file.
enum class WeightStorage {
  raw_data,        // initializers with raw_data (what PyTorch writes)
  typed_fields,    // initializers with float_data
  float16,         // initializers and graph input/output in FLOAT16 raw_data
  constant_nodes,  // every float tensor is the value of a Constant node
  external_data,   // initializers in "<file>.data" next to the model
};

struct ConvOptions {
  int kernel = 3;  // square kernel size
  int stride = 1;
  int pad = -1;  // on every side; -1 = (kernel - 1) / 2 * dilation
  int dilation = 1;
  int group = 1;
  bool bias = false;
  std::string auto_pad;  // "", "VALID", "SAME_UPPER", "SAME_LOWER" (overrides pad)
};

// Counts read back from the built graph by the ONNX loader's graph analysis.
struct NetworkSummary {
  std::vector<std::int64_t> input_shape;  // NCHW
  int conv_layers = 0;
  std::int64_t conv_params = 0;  // conv weights (biases excluded)
  std::int64_t conv_macs = 0;    // dense multiply-accumulates of all conv layers
  std::int64_t params = 0;       // every float constant in the graph
};

class ModelBuilder {
 public:
  // `input_nchw` is the graph input's shape; weights derive from `seed`.
  ModelBuilder(std::string graph_name, std::vector<std::int64_t> input_nchw, std::uint64_t seed);
  ~ModelBuilder();
  ModelBuilder(ModelBuilder&&) noexcept;
  ModelBuilder& operator=(ModelBuilder&&) noexcept;

  const std::string& input() const;
  std::vector<std::int64_t> shape(const std::string& tensor) const;

  // Each layer returns the name of its output tensor; `name` names the node
  // (a default is made from the op and a counter).
  // Conv with He-normal weights N(0, 2 / fan_in) and, if asked, a uniform bias.
  std::string conv(const std::string& x, int out_channels, const ConvOptions& opt = {},
                   const std::string& name = "");
  // Conv with given weights [M][C/group][k][k] and bias (empty: none).
  std::string conv(const std::string& x, int out_channels, const ConvOptions& opt,
                   std::vector<float> weights, std::vector<float> bias,
                   const std::string& name = "");
  // BatchNormalization with seeded statistics: gamma in [0.5, 1.5], beta in
  // [-0.25, 0.25], mean in [-0.25, 0.25], var in [0.5, 2].
  std::string batch_norm(const std::string& x, const std::string& name = "");
  std::string batch_norm(const std::string& x, std::vector<float> gamma, std::vector<float> beta,
                         std::vector<float> mean, std::vector<float> var, float epsilon,
                         const std::string& name = "");
  std::string relu(const std::string& x, const std::string& name = "");
  std::string max_pool(const std::string& x, int kernel, int stride, int pad = 0,
                       const std::string& name = "");
  std::string average_pool(const std::string& x, int kernel, int stride, int pad = 0,
                           const std::string& name = "");
  std::string global_average_pool(const std::string& x, const std::string& name = "");
  std::string add(const std::string& a, const std::string& b, const std::string& name = "");
  std::string flatten(const std::string& x, const std::string& name = "");
  std::string reshape(const std::string& x, std::vector<std::int64_t> target,
                      const std::string& name = "");
  // Reshape to [N, -1] with the target shape computed from x's shape, as
  // PyTorch exports x.view(x.size(0), -1): Shape -> Gather(0) -> Unsqueeze ->
  // Concat with a constant [-1] -> Reshape.
  std::string flatten_computed(const std::string& x, const std::string& name = "");
  // Gemm with transB = 1 and weights uniform in +-1/sqrt(in_features).
  std::string gemm(const std::string& x, int out_features, const std::string& name = "");
  std::string gemm(const std::string& x, int out_features, std::vector<float> weights,
                   std::vector<float> bias, const std::string& name = "");
  std::string softmax(const std::string& x, const std::string& name = "");
  // Concat along the channels (axis 1).
  std::string concat(const std::vector<std::string>& xs, const std::string& name = "");
  // Resize (opset 13), mode nearest, by an integer factor on H and W; its
  // scales [1, 1, f, f] are a float tensor stored like the weights (an
  // initializer, or a Constant node with WeightStorage::constant_nodes).
  std::string resize_nearest(const std::string& x, int factor,
                             const std::string& coordinate_mode = "asymmetric",
                             const std::string& nearest_mode = "floor",
                             const std::string& name = "");
  std::string depth_to_space(const std::string& x, int block, const std::string& mode = "DCR",
                             const std::string& name = "");
  // Clip (opset 13) with constant float bounds.
  std::string clip(const std::string& x, float lo, float hi, const std::string& name = "");
  // Declares the graph input's height and width free ("H", "W"), as a fully
  // convolutional export does; shapes inside the builder stay those given.
  void free_input_size();
  // Writes a value_info entry with the tensor's shape (as some exporters do).
  void value_info(const std::string& tensor);
  // A float constant (stored like the weights); returns its tensor name.
  std::string constant(const std::string& name, std::vector<std::int64_t> dims,
                       std::vector<float> values);
  // Any other single-output node, for tests (output shape given by the caller).
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                   std::vector<std::int64_t> output_shape, const std::string& name = "");

  // Marks graph outputs (the last layer's output when none is marked).
  void output(const std::string& tensor);

  // Writes the model (atomically; with external_data also "<path>.data").
  void write(const std::string& path, WeightStorage storage = WeightStorage::raw_data) const;

  NetworkSummary summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcnn
