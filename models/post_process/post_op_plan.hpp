#pragma once
// How the post-processing unit walks one op (docs/architecture.md,
// "Post-processing unit"): a list of steps, each fetching the input bytes it
// needs from DRAM into the line buffer, computing output elements on the
// lanes, and writing them back. Every input byte is fetched exactly once
// and every output byte written once, so the op's DRAM traffic is the sum of
// its tensor sizes. Plain C++; the SystemC shell executes the list.
#include <cstdint>
#include <vector>

#include "models/post_process/post_op.hpp"

namespace pcnn {

struct PostByteRange {
  int input = 0;            // index into PostOpDescriptor::inputs; -1: the output
  std::int64_t offset = 0;  // bytes from the tensor's address (channel-last)
  std::int64_t bytes = 0;
};

struct PostStep {
  std::vector<PostByteRange> reads;   // fetched before the step computes
  std::vector<PostByteRange> writes;  // output bytes the step computes and writes
  std::int64_t compute_cycles = 0;    // cycles on the lanes
  std::int64_t element_ops = 0;       // input elements (window taps) the lanes consume
};

// The steps of a validated op. Elementwise ops in chunks of at most half the
// line buffer over all inputs; concat and global pools in runs of whole pixels
// (a global pool writes its C outputs after the last run); pools and resize
// by bands of output rows whose input rows fit half the line buffer, over all
// channels when a window's rows of every channel fit, else over groups of
// channels (then each pixel's slice is its own DRAM transfer); depth_to_space
// by bands of output rows. Cycles of a step on the lanes:
//   clip, rescale, add, concat, global pools:  ceil(elements / lanes)
//   max_pool, average_pool:    output rows * ceil(OW * channels / lanes) * kernel_h * kernel_w
//   resize_nearest, depth_to_space:  output rows * ceil(OW * channels / lanes)
// (channels: of the step's channel group).
std::vector<PostStep> plan_post_op(const PostOpDescriptor& d, const PostProcessConfig& cfg);

std::int64_t ceil_div(std::int64_t a, std::int64_t b);

}  // namespace pcnn
