#pragma once
// Register map of the post-processing unit (little-endian 32-bit words) and the
// register image of a descriptor. The host programs an op by writing the
// descriptor words, then 1 to CONTROL; docs/architecture.md shows the sequence.
//
//   0x000 CONTROL   write 1: start the programmed op
//   0x004 STATUS    bit 0 busy, bit 1 done (last op finished), bit 2 error (last start refused)
//   0x008 OPS_DONE  ops finished since reset
//   0x040 OP, NUM_INPUTS, KERNEL_H, KERNEL_W, STRIDE_H, STRIDE_W, DILATION_H, DILATION_W,
//         PAD_TOP, PAD_LEFT, PAD_BOTTOM, PAD_RIGHT, FLAGS (bit 0 count_include_pad,
//         bit 1 crd), SHIFT, LO, HI (signed), BLOCK, ROWS, COLS (resize table lengths)
//   0x0c0 OUTPUT    address low, address high, C, H, W
//   0x100 + 32*i    INPUT i (i < 16): address low, address high, C, H, W,
//                   multiplier low, multiplier high
//   0x400 + 4*i     ROW table (resize_nearest), 4096 entries
//   0x4400 + 4*i    COL table, 4096 entries
#include <cstdint>
#include <vector>

#include "models/post_process/post_op.hpp"

namespace pcnn {

struct PostRegisters {
  static constexpr std::uint64_t kControl = 0x000;
  static constexpr std::uint64_t kStatus = 0x004;
  static constexpr std::uint64_t kOpsDone = 0x008;
  static constexpr std::uint64_t kHeader = 0x040;
  static constexpr std::uint64_t kHeaderWords = 19;
  static constexpr std::uint64_t kOutput = 0x0c0;
  static constexpr std::uint64_t kInputs = 0x100;
  static constexpr std::uint64_t kInputStride = 32;
  static constexpr std::uint64_t kTensorWords = 5;  // address low/high, C, H, W
  static constexpr std::uint64_t kRowTable = 0x400;
  static constexpr std::uint64_t kColTable = kRowTable + 4 * PostOpDescriptor::kMaxTableEntries;
  static constexpr std::uint64_t kSize = kColTable + 4 * PostOpDescriptor::kMaxTableEntries;

  static constexpr std::uint32_t kStatusBusy = 1, kStatusDone = 2, kStatusError = 4;
};

// One register write: `bytes` at `address`.
struct PostRegisterWrite {
  std::uint64_t address = 0;
  std::vector<std::uint8_t> bytes;
};

// The writes that program `d` (only the words the op uses), ending with the
// write of 1 to CONTROL that starts it.
std::vector<PostRegisterWrite> post_op_register_writes(const PostOpDescriptor& d);

// The descriptor the registers hold (not yet validated).
PostOpDescriptor decode_post_op_registers(const std::uint8_t* registers);

}  // namespace pcnn
