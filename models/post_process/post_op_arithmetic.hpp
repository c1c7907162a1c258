#pragma once
// The arithmetic of the post-processing unit, plain C++: each output element
// of an op from the int8 input tensors, by the rules of docs/quantisation.md.
// The unit's SystemC shell calls it step by step on the bytes it has read from
// DRAM; tests call it on whole tensors and compare with the golden operators
// (src/golden), which are written independently of it.
#include <cstdint>
#include <vector>

#include "models/post_process/post_op.hpp"

namespace pcnn {

class PostOpArithmetic {
 public:
  // The descriptor must have passed validate_post_op().
  explicit PostOpArithmetic(const PostOpDescriptor& d);

  // Output elements [begin, end) (byte offsets in the channel-last output)
  // into out[begin, end); inputs[i] points at the whole channel-last input
  // tensor i (only the elements these outputs read need to hold their values).
  void compute(const std::vector<const std::int8_t*>& inputs, std::int64_t begin, std::int64_t end,
               std::int8_t* out) const;

  // The whole output tensor (channel-last, like the inputs).
  std::vector<std::int8_t> run(const std::vector<std::vector<std::int8_t>>& inputs) const;

 private:
  std::int8_t window(const std::int8_t* x, std::int64_t c, std::int64_t oy, std::int64_t ox) const;
  std::int8_t whole_plane(const std::int8_t* x, std::int64_t c) const;
  std::int8_t rescaled(std::int64_t weighted_sum) const;

  const PostOpDescriptor& d_;
  std::vector<std::int64_t> concat_starts_;  // first output channel of each concat input
};

}  // namespace pcnn
