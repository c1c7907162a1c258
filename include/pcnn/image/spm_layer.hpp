#pragma once
// One convolution layer in PCNN form: the contract between the pruner (which
// builds it), the image files (which store it) and the accelerator model (which
// runs it). The encoders here define the memory layout of paper Fig. 3; see
// docs/image-format.md.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/core/conv_geometry.hpp"

namespace pcnn {

// The accelerator's fixed sizes, defined once here (the contract between the
// pruner, the images and the model):
// width of the PE kernel register (and of one Weight SRAM row) in 8-bit words
// (paper; the architecture may choose another width);
constexpr int kDefaultKernelRegisterWords = 60;
// positions of the kernels the pattern datapath prunes (3x3);
constexpr int kPatternKernelPositions = 9;
// largest kernel the pointer generator handles: its masks are 16 bits.
constexpr int kMaxKernelPositions = 16;

// Integer requantisation of a 32-bit accumulator to int8:
//   y = clamp(round_half_up(acc * multiplier / 2^(31 + shift)), lo, 127)
// with lo = 0 after ReLU, -128 otherwise. multiplier is in [2^30, 2^31).
struct Requant {
  std::int32_t multiplier = 1 << 30;
  std::int32_t shift = 0;
};

struct SpmLayer {
  std::string name;  // ONNX node name (its first output's name when unnamed)
  int index = 0;     // position among the model's Conv nodes
  ConvGeometry geom;

  // false: the layer is kept dense (1x1, grouped, FC, or excluded by the user);
  // it is then stored with n = K values per kernel in position order and no
  // pattern table (index_bits() == 0).
  bool pattern_pruned = true;
  int n = kPatternKernelPositions;            // non-zeros per kernel
  std::vector<std::uint16_t> patterns;        // PaC table: SPM index -> K-bit mask
  std::vector<std::uint32_t> kernel_index;    // per kernel (m * Cg + c): SPM index
  std::vector<std::int8_t> nonzeros;          // per kernel n values, ascending position
  int kernel_register_words = kDefaultKernelRegisterWords;

  // Quantisation: real = scale * int. Activations are symmetric int8 (zero point 0).
  std::vector<float> weight_scale;            // per output channel
  float input_scale = 1.0f;
  float output_scale = 1.0f;
  std::vector<std::int32_t> bias;             // per output channel, accumulator units
  std::vector<Requant> requant;               // per output channel
  bool relu = false;

  // Byte offsets of this layer inside the model-wide images (set by the writer).
  std::uint64_t weight_offset = 0;
  std::uint64_t pattern_offset = 0;
  std::uint64_t pattern_config_offset = 0;  // of its record in pattern_config.bin

  int num_patterns() const { return static_cast<int>(patterns.size()); }  // V
  // The per-kernel data (kernel_index, nonzeros) is in memory; a layer read
  // with KernelData::packed (model_images.hpp) has it in its image files only.
  bool has_kernel_data() const { return !nonzeros.empty() || !kernel_index.empty(); }
  int index_bits() const;         // ceil(log2 V); 0 when V == 1
  int kernels_per_row() const;    // floor(W / n), at least 1
  int row_bytes() const;          // max(W, n)

  // Memory images of this layer alone (paper Fig. 3).
  std::vector<std::uint8_t> weight_image() const;   // rows of row_bytes(), zero padded
  std::uint64_t weight_image_bytes() const;         // its size, without building it
  std::vector<std::uint8_t> pattern_image() const;  // index_bits() per kernel, LSB first
  // Dense int8 kernels rebuilt from masks and non-zeros: [M][Cg][K].
  std::vector<std::int8_t> dense_weights() const;

  // Checks internal consistency; throws pcnn::Error naming the layer.
  void validate() const;
  // validate() without the per-kernel data (kernel_index, nonzeros): the
  // shape, n, the pattern table and the per-channel parameters.
  void validate_parameters() const;
};

// The same layer stored dense (n = K, pattern_pruned = false): the zeros the
// pruner introduced become explicit weights. Used to simulate the dense baseline
// on the same array; it computes bit-identical outputs.
SpmLayer dense_equivalent(const SpmLayer& layer);

// Byte address of kernel k's first non-zero inside a layer's weight image.
std::uint64_t weight_address(const SpmLayer& layer, std::int64_t kernel);

// The one bit packing of SPM indices, used by the image writer, the host's
// Pattern SRAM layout and the PE group: `bits`-wide values LSB first, value i
// at bit i * bits; bits in 0..32.
std::vector<std::uint8_t> pack_bits(const std::vector<std::uint32_t>& values, int bits);
// Reads value i of a pack_bits() stream.
std::uint32_t unpack_bits(const std::uint8_t* data, std::size_t size_bytes, std::int64_t i,
                          int bits);
// Values first .. first + count - 1 of a pack_bits() stream into out[0 .. count)
// (the same values as unpack_bits() one by one, in one pass).
void unpack_bits_run(const std::uint8_t* data, std::size_t size_bytes, std::int64_t first,
                     std::int64_t count, int bits, std::uint32_t* out);
// The field of `bits` bits starting at bit `pos` (LSB first), read or written.
std::uint32_t read_bit_field(const std::uint8_t* data, std::size_t size_bytes, std::uint64_t pos,
                             int bits);
void write_bit_field(std::uint8_t* data, std::size_t size_bytes, std::uint64_t pos, int bits,
                     std::uint32_t value);

int ceil_log2(std::uint32_t v);  // ceil(log2 v) for v >= 1; 0 for v == 1

// Moves `count` bits from bit `src_pos` of one bit stream (LSB first, as
// read_bit_field) to bit `dst_pos` of another, leaving the destination's other
// bits as they are: the same result as read_bit_field/write_bit_field piece by
// piece, in up to 56-bit steps (the host's Pattern SRAM layout moves a PE's
// indices of a group at once). Throws pcnn::Error when a range lies beyond its
// stream. The streams must not overlap.
void copy_bit_field(std::uint8_t* dst, std::size_t dst_size_bytes, std::uint64_t dst_pos,
                    const std::uint8_t* src, std::size_t src_size_bytes, std::uint64_t src_pos,
                    std::uint64_t count);

}  // namespace pcnn
