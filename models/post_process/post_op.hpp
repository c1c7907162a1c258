#pragma once
// One operation of the post-processing unit (docs/architecture.md,
// "Post-processing unit"): what the host programs into the unit's registers
// before it starts an op. Tensors are int8, batch 1, in the simulated DRAM
// channel-last ([H][W][C], as the PE group reads and writes them; the same
// bytes as C order when C == 1 or H * W == 1); the descriptor carries their
// addresses and sizes.
//
// Plain C++ (no SystemC): the arithmetic, the step plan and the register image
// are built from it and unit-tested without a simulation kernel.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/network/int8_network.hpp"
#include "pcnn/sim/post_process_config.hpp"

namespace pcnn {

// The register value of each op (PostProcessUnit::kRegOp).
enum class PostOp : std::uint32_t {
  rescale = 1,              // scale bridge: one input to the output scale
  clip = 2,                 // y = min(max(x, lo), hi); Relu is lo = 0
  max_pool = 3,             // window maximum, padding never wins
  average_pool = 4,         // window mean, round half up
  global_average_pool = 5,  // mean over H x W, round half up
  global_max_pool = 6,      // maximum over H x W
  add = 7,                  // two inputs rescaled to the output scale in one sum
  concat = 8,               // inputs rescaled, placed one after the other along C
  resize_nearest = 9,       // y[c][i][j] = x[c][rows[i]][cols[j]]
  depth_to_space = 10,      // DCR or CRD permutation of channel blocks
};
constexpr int kPostOpKinds = 10;

const char* to_string(PostOp op);

// An int8 tensor in DRAM from `address`, channel-last: element (c, y, x) at
// byte (y * width + x) * channels + c. A tensor that is not 4-D ([1,K] after
// Flatten) is one row of K one-channel pixels: channels = height = 1, width = K.
struct PostTensor {
  std::uint64_t address = 0;
  std::int64_t channels = 1, height = 1, width = 1;
  std::int64_t bytes() const { return channels * height * width; }
  std::int64_t row_bytes() const { return width * channels; }
  std::int64_t pixels() const { return height * width; }
};

struct PostOpDescriptor {
  PostOp op = PostOp::clip;
  std::vector<PostTensor> inputs;  // 1; add: 2; concat: 1..kMaxInputs
  PostTensor output;
  // max_pool, average_pool: the window (as in ConvGeometry).
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;  // average_pool: divide by the padded window size
  // rescale, add, concat: y = clamp((sum_i x_i * multipliers[i] + 2^(shift-1)) >> shift, lo, 127)
  std::vector<std::int64_t> multipliers;  // one per input, 0..2^32
  int shift = 31;                         // 1..62
  int lo = -128, hi = 127;                // clip bounds; lower clamp of rescale / add / concat
  std::vector<std::int32_t> rows, cols;   // resize_nearest: source row / column of each output
  int block = 0;                          // depth_to_space block size
  bool crd = false;                       // depth_to_space: CRD (else DCR)

  static constexpr int kMaxInputs = 16;
  static constexpr int kMaxTableEntries = 4096;  // resize_nearest: output H and W at most
};

// Checks the descriptor against itself and the unit (shapes fit the op, a
// window's input rows of one channel, a depth_to_space input row fit half the
// line buffer, tables in range); throws
// pcnn::Error("post-processing op <op>", ...) saying what is wrong.
void validate_post_op(const PostOpDescriptor& d, const PostProcessConfig& cfg);

// The descriptor of one int8 network operator (docs/quantisation.md) whose
// input tensors lie at `input_addresses` (in node.inputs order) and whose
// output goes to `output_address`. relu becomes clip with its bounds.
// conv, gemm (PE group) and reshape (no data moves: the output is the input's
// bytes) are not post-processing ops: throws pcnn::Error naming the node.
PostOpDescriptor make_post_op(const NetNode& node, const std::vector<NetTensor>& tensors,
                              const std::vector<std::uint64_t>& input_addresses,
                              std::uint64_t output_address);

// True for the Int8Op kinds make_post_op accepts.
bool runs_on_post_process_unit(Int8Op op);

}  // namespace pcnn
