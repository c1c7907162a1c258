#pragma once
// A whole network at another input size: a fully convolutional model pruned
// at one shape (pcnn-prune --input-shape) and run at another
// (pcnn-sim --input-shape, parsed with parse_input_shape of onnx_model.hpp). The weights do not
// depend on the input's height and width; every tensor's shape, every conv's input size and the
// index tables of nearest resizes are derived again from the new input, operator by operator, with
// the rule each operator used for the pruned shape.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/image/spm_layer.hpp"
#include "pcnn/network/int8_network.hpp"

namespace pcnn {

// Sets `net`'s input to `input_shape` (NCHW, batch 1, the same channels) and
// carries it through every operator, updating the tensors' shapes and the
// conv layers' geometry (`conv_layers`, images order). Throws pcnn::Error
// naming `where` and the operator that cannot take the new size (a Gemm whose
// input size changes, a conv window larger than its input, a resize that is
// not an integer upscale, ...). Nothing is changed when it throws.
void set_network_input_shape(Int8Network& net, std::vector<SpmLayer>& conv_layers,
                             const std::vector<std::int64_t>& input_shape,
                             const std::string& where);

}  // namespace pcnn
