#pragma once
// A whole network in integer form (docs/quantisation.md, "Whole networks"):
// every tensor with its int8 scale, every operator with the integer
// parameters that define its output exactly. Conv layers are the SpmLayers of
// the model's images; Gemm / MatMul become dense 1x1 layers. pcnn-prune writes
// it next to the images as network.json (+ network.bin for the Gemm weights).
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/image/spm_layer.hpp"

namespace pcnn {

enum class Int8Op {
  conv,                 // images layer `layer` (SpmLayer): accumulate, requantise
  gemm,                 // gemm_layers[layer] as a 1x1 conv on [K][1][1]
  rescale,              // scale bridge: y = rescale(x)
  relu,                 // y = max(x, lo) with lo = 0
  clip,                 // y = min(max(x, lo), hi)
  max_pool,             // window maximum (padding never wins)
  average_pool,         // window mean, round half up
  global_average_pool,  // mean over H x W, round half up
  global_max_pool,      // maximum over H x W
  add,                  // y = rescale(a, b): both inputs to the output scale
  concat,               // along channels, each input rescaled to the output scale
  reshape,              // Flatten / Reshape: the same bytes, a new shape
  resize_nearest,       // y[c][i][j] = x[c][rows[i]][cols[j]]
  depth_to_space,       // DCR or CRD permutation
};

const char* to_string(Int8Op op);

struct NetTensor {
  std::string name;                 // ONNX tensor name (bridges: "<name>@<scale user>")
  std::vector<std::int64_t> shape;  // as ONNX computes it, batch 1
  float scale = 1.0f;               // real = scale * int8
  bool non_negative = false;        // never below 0 in calibration (after a ReLU, say)
  std::int64_t elements() const;
};

// Fixed-point rescaling of one or more int8 inputs to one output:
//   y = clamp((sum_i x_i * multipliers[i] + 2^(shift-1)) >> shift, lo, 127)
// (arithmetic shift: round half up). multipliers[i] = round(r_i * 2^shift) for
// the real ratios r_i = scale_i / scale_out, shift = 31 - e where the largest
// ratio is f * 2^e (f in [0.5, 1)), limited to 1..62.
struct Rescale {
  std::vector<std::int64_t> multipliers;
  int shift = 31;
};

// Builds the Rescale for real ratios (all > 0); throws pcnn::Error when a
// ratio is 2^30 or more (degenerate scales).
Rescale make_rescale(const std::vector<double>& ratios);

struct NetNode {
  Int8Op op = Int8Op::relu;
  std::string name;         // the ONNX node it comes from
  std::vector<int> inputs;  // tensor indices
  int output = 0;           // tensor index
  int layer = -1;           // conv: images layer index; gemm: gemm_layers index
  // Windows (pools): kernel, stride, dilation and padding as in ConvGeometry.
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;        // average_pool: divide by padded window size
  Rescale rescale;                       // rescale, add, concat: one multiplier per input
  int lo = -128, hi = 127;               // relu, clip bounds; lower clamp of add / rescale / concat
  std::vector<std::int64_t> rows, cols;  // resize_nearest source indices
  int block = 0;                         // depth_to_space
  bool crd = false;                      // depth_to_space mode CRD (else DCR)
};

struct Int8Network {
  std::vector<NetTensor> tensors;
  std::vector<NetNode> nodes;         // in execution order
  int input = 0;                      // tensor index of the graph input
  int output = 0;                     // tensor index of the network output
  std::vector<SpmLayer> gemm_layers;  // dense 1x1 layers (Gemm / MatMul)
  std::string dropped_softmax;        // a final Softmax left out (it keeps the class order)
  std::string images_identity;        // identity of the image set the convs come from
  bool gemm_weights_read = true;      // false: read with GemmWeights::skip (no weights)

  // Checks every index, shape and parameter against the tensors and the
  // conv layers; throws pcnn::Error(where, ...) naming the node.
  void validate(const std::vector<SpmLayer>& conv_layers, const std::string& where) const;
};

// Per conv layer (images order): 1 when its input tensor is never negative,
// 0 when it may be, -1 when the network has no such conv. The sign is the
// producer's (ReLU, or a pool / Add / Concat of such values), not the
// previous conv's.
std::vector<int> conv_input_signs(const Int8Network& net, std::size_t conv_layers);

// network.json and network.bin inside an images directory.
void write_int8_network_files(const Int8Network& net, const std::string& dir);
// What read_int8_network takes from network.bin: the Gemm layers' weights, or
// nothing, for a run of conv layers only (pcnn-sim run), which needs the
// shapes and signs of network.json but no Gemm weight: network.bin is then not
// read, and the Gemm layers keep empty weights (their parameters are checked).
enum class GemmWeights { read, skip };
// Reads them back (checks format, version, sizes, checksum and validates
// against the conv layers); throws pcnn::Error naming the file.
Int8Network read_int8_network(const std::string& dir, const std::vector<SpmLayer>& conv_layers,
                              GemmWeights gemm_weights = GemmWeights::read);

}  // namespace pcnn
