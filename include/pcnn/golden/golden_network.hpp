#pragma once
// Golden integer network executor: runs a whole pruned network (its images
// directory: conv layers + network.json) on one int8 input, operator by
// operator, exactly as docs/quantisation.md defines each int8 operator. It is
// the reference whole-network simulations are checked against, written
// independently of the accelerator model: convs go through golden_conv_layer()
// (dense weights, plain loops), the other operators are plain loops here.
//
// Library use (e.g. to measure the int8 accuracy of a model):
//
//   pcnn::GoldenNetwork net = pcnn::GoldenNetwork::load("out/model-images");
//   std::vector<float> x = pcnn::read_network_input("img.png", net.input_shape());
//   pcnn::GoldenOutput y = net.run(net.quantise_input(x));
//   int cls = pcnn::top_k(y.values, 1)[0];          // y.values * y.scale = logits
//
// See docs/golden-reference.md, "Whole networks".
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"

namespace pcnn {

struct GoldenOutput {
  std::vector<std::int8_t> values;  // the output tensor, C order
  std::vector<std::int64_t> shape;  // e.g. [1, 10] for a classifier
  float scale = 1.0f;               // real = scale * value
};

// Called after each operator with the node, its output tensor and the values.
using TensorObserver = std::function<void(const NetNode& node, const NetTensor& tensor,
                                          const std::vector<std::int8_t>& values)>;

class GoldenNetwork {
 public:
  // Reads the images (read_model_images) and network.json; throws pcnn::Error
  // naming the file (also when network.json is missing or belongs to other images).
  static GoldenNetwork load(const std::string& images_dir);
  GoldenNetwork(ModelImages images, Int8Network network);  // validates

  const Int8Network& network() const { return net_; }
  const ModelImages& images() const { return images_; }
  const std::vector<std::int64_t>& input_shape() const;  // NCHW, batch 1
  float input_scale() const;

  // Float NCHW input to int8 at the input scale: round half away from zero,
  // clamped to -127..127. Throws when the size differs from input_shape().
  std::vector<std::int8_t> quantise_input(const std::vector<float>& nchw) const;

  // Runs one int8 input (NCHW, input_shape()); throws pcnn::Error for a wrong size.
  GoldenOutput run(const std::vector<std::int8_t>& input,
                   const TensorObserver& observer = {}) const;

 private:
  ModelImages images_;
  Int8Network net_;
};

// Indices of the k largest values, largest first; ties go to the lower index.
std::vector<int> top_k(const std::vector<std::int8_t>& values, int k);

// One int8 operator other than conv and gemm on its inputs (exposed for the
// operator tests). `inputs` are the values of node.inputs, in order.
std::vector<std::int8_t> golden_int8_operator(
    const NetNode& node, const std::vector<NetTensor>& tensors,
    const std::vector<const std::vector<std::int8_t>*>& inputs);

}  // namespace pcnn
