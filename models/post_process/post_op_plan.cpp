#include "models/post_process/post_op_plan.hpp"

#include <algorithm>

namespace pcnn {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

namespace {

constexpr int kOutput = -1;

// Appends a range, merging it with the previous one when they are contiguous.
void add_range(std::vector<PostByteRange>& list, int tensor, std::int64_t offset,
               std::int64_t bytes) {
  if (bytes <= 0) return;
  if (!list.empty()) {
    PostByteRange& last = list.back();
    if (last.input == tensor && last.offset + last.bytes == offset) {
      last.bytes += bytes;
      return;
    }
  }
  list.push_back({tensor, offset, bytes});
}

void plan_elementwise(const PostOpDescriptor& d, std::int64_t half, int lanes,
                      std::vector<PostStep>& steps) {
  const std::int64_t n = static_cast<std::int64_t>(d.inputs.size());
  const std::int64_t total = d.output.bytes();
  const std::int64_t chunk = std::max<std::int64_t>(1, half / n);
  for (std::int64_t b = 0; b < total; b += chunk) {
    const std::int64_t e = std::min(total, b + chunk);
    PostStep s;
    for (int i = 0; i < static_cast<int>(n); ++i) add_range(s.reads, i, b, e - b);
    add_range(s.writes, kOutput, b, e - b);
    s.compute_cycles = ceil_div(e - b, lanes);
    s.element_ops = (e - b) * n;
    steps.push_back(std::move(s));
  }
}

// Concat: pixel p of the output is pixel p of each input, one after the other.
void plan_concat(const PostOpDescriptor& d, std::int64_t half, int lanes,
                 std::vector<PostStep>& steps) {
  const std::int64_t C = d.output.channels, pixels = d.output.pixels();
  const std::int64_t run = std::max<std::int64_t>(1, half / C);
  for (std::int64_t p0 = 0; p0 < pixels; p0 += run) {
    const std::int64_t p1 = std::min(pixels, p0 + run);
    PostStep s;
    for (int k = 0; k < static_cast<int>(d.inputs.size()); ++k) {
      const std::int64_t ck = d.inputs[static_cast<std::size_t>(k)].channels;
      add_range(s.reads, k, p0 * ck, (p1 - p0) * ck);
    }
    add_range(s.writes, kOutput, p0 * C, (p1 - p0) * C);
    s.compute_cycles = ceil_div((p1 - p0) * C, lanes);
    s.element_ops = (p1 - p0) * C;
    steps.push_back(std::move(s));
  }
}

// Global pools: C accumulators; the input streams through in runs of pixels.
void plan_global(const PostOpDescriptor& d, std::int64_t half, int lanes,
                 std::vector<PostStep>& steps) {
  const PostTensor& x = d.inputs[0];
  const std::int64_t run = std::max<std::int64_t>(1, half / x.channels);
  for (std::int64_t p0 = 0; p0 < x.pixels(); p0 += run) {
    const std::int64_t p1 = std::min(x.pixels(), p0 + run);
    PostStep s;
    add_range(s.reads, 0, p0 * x.channels, (p1 - p0) * x.channels);
    if (p1 == x.pixels()) add_range(s.writes, kOutput, 0, x.channels);
    s.compute_cycles = ceil_div((p1 - p0) * x.channels, lanes);
    s.element_ops = (p1 - p0) * x.channels;
    steps.push_back(std::move(s));
  }
}

// Pools, resize and depth_to_space: output row oy reads input rows
// first_row(oy) .. row_end(oy) - 1; bands of output rows are planned per
// channel group.
class RowPlanner {
 public:
  RowPlanner(const PostOpDescriptor& d, std::int64_t half, int lanes)
      : d_(d), x_(d.inputs[0]), y_(d.output), half_(half), lanes_(lanes) {
    const bool window = d.op == PostOp::max_pool || d.op == PostOp::average_pool;
    taps_ = window ? std::int64_t{d.kernel_h} * d.kernel_w : 1;
  }

  void plan(std::vector<PostStep>& steps) const {
    if (d_.op == PostOp::depth_to_space) {  // every output channel reads every input channel
      plan_bands(0, x_.channels, 0, y_.channels, steps);
      return;
    }
    // The most channels whose rows for one output row fit half the line buffer.
    std::int64_t span = 1;
    for (std::int64_t oy = 0; oy < y_.height; ++oy)
      span = std::max(span, row_end(oy) - first_row(oy));
    const std::int64_t group =
        std::max<std::int64_t>(1, std::min(x_.channels, half_ / (span * x_.width)));
    for (std::int64_t c0 = 0; c0 < x_.channels; c0 += group) {
      const std::int64_t c1 = std::min(x_.channels, c0 + group);
      plan_bands(c0, c1, c0, c1, steps);
    }
  }

 private:
  std::int64_t first_row(std::int64_t oy) const {
    switch (d_.op) {
      case PostOp::resize_nearest:
        return d_.rows[static_cast<std::size_t>(oy)];
      case PostOp::depth_to_space:
        return oy / d_.block;
      default:
        return std::min(x_.height - 1, std::max<std::int64_t>(0, oy * d_.stride_h - d_.pad_top));
    }
  }
  // One past the last input row output row oy reads.
  std::int64_t row_end(std::int64_t oy) const {
    switch (d_.op) {
      case PostOp::resize_nearest:
      case PostOp::depth_to_space:
        return first_row(oy) + 1;
      default: {
        const std::int64_t last =
            oy * d_.stride_h - d_.pad_top + std::int64_t{d_.kernel_h - 1} * d_.dilation_h;
        return std::max(first_row(oy) + 1, std::min(x_.height - 1, last) + 1);
      }
    }
  }

  // Rows [r0, r1) of input channels [c0, c1), or output rows of channels
  // [c0, c1): one range when the group is every channel, else one per pixel.
  static void add_rows(std::vector<PostByteRange>& list, int tensor, const PostTensor& t,
                       std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1) {
    if (c1 - c0 == t.channels) {
      add_range(list, tensor, r0 * t.row_bytes(), (r1 - r0) * t.row_bytes());
      return;
    }
    for (std::int64_t p = r0 * t.width; p < r1 * t.width; ++p)
      add_range(list, tensor, p * t.channels + c0, c1 - c0);
  }

  // Bands of output rows whose input rows (from the band's first to its last)
  // fit half the line buffer; rows already fetched stay.
  void plan_bands(std::int64_t in_c0, std::int64_t in_c1, std::int64_t out_c0, std::int64_t out_c1,
                  std::vector<PostStep>& steps) const {
    const std::int64_t row_bytes = x_.width * (in_c1 - in_c0);
    const std::int64_t row_cycles = ceil_div(y_.width * (out_c1 - out_c0), lanes_) * taps_;
    const std::int64_t row_ops = y_.width * (out_c1 - out_c0) * taps_;
    std::int64_t fetched = 0;  // input rows of the group read so far
    for (std::int64_t oy = 0; oy < y_.height;) {
      const std::int64_t first = first_row(oy);
      std::int64_t end = row_end(oy), oy1 = oy + 1;
      while (oy1 < y_.height && (std::max(end, row_end(oy1)) - first) * row_bytes <= half_) {
        end = std::max(end, row_end(oy1));
        ++oy1;
      }
      if (oy1 == y_.height) end = x_.height;  // rows no output reads still stream in
      end = std::max(end, fetched);
      PostStep s;
      add_rows(s.reads, 0, x_, fetched, end, in_c0, in_c1);
      add_rows(s.writes, kOutput, y_, oy, oy1, out_c0, out_c1);
      fetched = end;
      s.compute_cycles = (oy1 - oy) * row_cycles;
      s.element_ops = (oy1 - oy) * row_ops;
      steps.push_back(std::move(s));
      oy = oy1;
    }
  }

  const PostOpDescriptor& d_;
  const PostTensor& x_;
  const PostTensor& y_;
  std::int64_t half_;
  int lanes_;
  std::int64_t taps_ = 1;
};

}  // namespace

std::vector<PostStep> plan_post_op(const PostOpDescriptor& d, const PostProcessConfig& cfg) {
  const std::int64_t half = cfg.line_buffer_bytes / 2;
  std::vector<PostStep> steps;
  switch (d.op) {
    case PostOp::clip:
    case PostOp::rescale:
    case PostOp::add:
      plan_elementwise(d, half, cfg.lanes, steps);
      break;
    case PostOp::concat:
      plan_concat(d, half, cfg.lanes, steps);
      break;
    case PostOp::global_average_pool:
    case PostOp::global_max_pool:
      plan_global(d, half, cfg.lanes, steps);
      break;
    case PostOp::max_pool:
    case PostOp::average_pool:
    case PostOp::resize_nearest:
    case PostOp::depth_to_space:
      RowPlanner(d, half, cfg.lanes).plan(steps);
      break;
  }
  return steps;
}

}  // namespace pcnn
