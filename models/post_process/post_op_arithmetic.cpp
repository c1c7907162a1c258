#include "models/post_process/post_op_arithmetic.hpp"

#include <algorithm>

namespace pcnn {
namespace {

std::int8_t saturate(std::int64_t v, int lo, int hi) {
  if (v < lo) return static_cast<std::int8_t>(lo);
  if (v > hi) return static_cast<std::int8_t>(hi);
  return static_cast<std::int8_t>(v);
}

// Round half up of num / den (den > 0): the largest q with q <= num/den + 1/2,
// i.e. q * 2den <= 2num + den.
std::int64_t round_half_up_div(std::int64_t num, std::int64_t den) {
  const std::int64_t twice = 2 * num + den;
  std::int64_t q = twice / (2 * den);
  if (q * 2 * den > twice) --q;  // C++ division truncates towards zero
  return q;
}

// Byte of element (c, y, x) in a channel-last tensor.
std::int64_t at(const PostTensor& t, std::int64_t c, std::int64_t y, std::int64_t x) {
  return (y * t.width + x) * t.channels + c;
}

}  // namespace

PostOpArithmetic::PostOpArithmetic(const PostOpDescriptor& d) : d_(d) {
  std::int64_t start = 0;
  for (const PostTensor& t : d.inputs) {
    concat_starts_.push_back(start);
    start += t.channels;
  }
}

std::int8_t PostOpArithmetic::rescaled(std::int64_t weighted_sum) const {
  // Arithmetic right shift of a signed value floors, so adding half rounds half up.
  const std::int64_t half = std::int64_t{1} << (d_.shift - 1);
  return saturate((weighted_sum + half) >> d_.shift, d_.lo, 127);
}

std::int8_t PostOpArithmetic::window(const std::int8_t* x, std::int64_t c, std::int64_t oy,
                                     std::int64_t ox) const {
  const PostTensor& in = d_.inputs[0];
  const std::int64_t top = oy * d_.stride_h - d_.pad_top;
  const std::int64_t left = ox * d_.stride_w - d_.pad_left;
  const std::int64_t padded_h = in.height + d_.pad_bottom, padded_w = in.width + d_.pad_right;
  std::int64_t sum = 0, inside = 0, inside_padded = 0;
  int best = -1000;
  for (int ky = 0; ky < d_.kernel_h; ++ky) {
    const std::int64_t iy = top + std::int64_t{ky} * d_.dilation_h;
    for (int kx = 0; kx < d_.kernel_w; ++kx) {
      const std::int64_t ix = left + std::int64_t{kx} * d_.dilation_w;
      // A tap starts at or after -pad, so only the far edges can fall outside the padding.
      if (iy < padded_h && ix < padded_w) ++inside_padded;
      if (iy < 0 || ix < 0 || iy >= in.height || ix >= in.width) continue;
      const int v = x[at(in, c, iy, ix)];
      best = std::max(best, v);
      sum += v;
      ++inside;
    }
  }
  if (d_.op == PostOp::max_pool) return inside == 0 ? 0 : static_cast<std::int8_t>(best);
  const std::int64_t count = d_.count_include_pad ? inside_padded : inside;
  return count == 0 ? 0 : saturate(round_half_up_div(sum, count), -128, 127);
}

std::int8_t PostOpArithmetic::whole_plane(const std::int8_t* x, std::int64_t c) const {
  const PostTensor& in = d_.inputs[0];
  const std::int64_t n = in.pixels();
  if (d_.op == PostOp::global_max_pool) {
    int best = -1000;
    for (std::int64_t p = 0; p < n; ++p) best = std::max<int>(best, x[p * in.channels + c]);
    return static_cast<std::int8_t>(best);
  }
  std::int64_t sum = 0;
  for (std::int64_t p = 0; p < n; ++p) sum += x[p * in.channels + c];
  return saturate(round_half_up_div(sum, n), -128, 127);
}

void PostOpArithmetic::compute(const std::vector<const std::int8_t*>& in, std::int64_t begin,
                               std::int64_t end, std::int8_t* out) const {
  const PostTensor& y = d_.output;
  for (std::int64_t i = begin; i < end; ++i) {
    // Output element i is (c, oy, ox) of the channel-last output.
    const std::int64_t c = i % y.channels, pixel = i / y.channels;
    const std::int64_t oy = pixel / y.width, ox = pixel % y.width;
    std::int8_t v = 0;
    switch (d_.op) {
      case PostOp::clip:
        v = saturate(in[0][i], d_.lo, d_.hi);
        break;
      case PostOp::rescale:
        v = rescaled(in[0][i] * d_.multipliers[0]);
        break;
      case PostOp::add:
        v = rescaled(in[0][i] * d_.multipliers[0] + in[1][i] * d_.multipliers[1]);
        break;
      case PostOp::concat: {
        // The last input whose channels start at or before c.
        const std::size_t k = static_cast<std::size_t>(
            std::upper_bound(concat_starts_.begin(), concat_starts_.end(), c) -
            concat_starts_.begin() - 1);
        const PostTensor& x = d_.inputs[k];
        v = rescaled(in[k][pixel * x.channels + c - concat_starts_[k]] * d_.multipliers[k]);
        break;
      }
      case PostOp::max_pool:
      case PostOp::average_pool:
        v = window(in[0], c, oy, ox);
        break;
      case PostOp::global_average_pool:
      case PostOp::global_max_pool:
        v = whole_plane(in[0], c);
        break;
      case PostOp::resize_nearest:
        v = in[0][at(d_.inputs[0], c, d_.rows[static_cast<std::size_t>(oy)],
                     d_.cols[static_cast<std::size_t>(ox)])];
        break;
      case PostOp::depth_to_space: {
        const std::int64_t b = d_.block, sub = (oy % b) * b + ox % b;
        const std::int64_t src = d_.crd ? c * b * b + sub : sub * y.channels + c;
        v = in[0][at(d_.inputs[0], src, oy / b, ox / b)];
        break;
      }
    }
    out[i] = v;
  }
}

std::vector<std::int8_t> PostOpArithmetic::run(
    const std::vector<std::vector<std::int8_t>>& inputs) const {
  std::vector<const std::int8_t*> in;
  for (const auto& v : inputs) in.push_back(v.data());
  std::vector<std::int8_t> out(static_cast<std::size_t>(d_.output.bytes()));
  compute(in, 0, d_.output.bytes(), out.data());
  return out;
}

}  // namespace pcnn
