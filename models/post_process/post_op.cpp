#include "models/post_process/post_op.hpp"

#include <algorithm>

#include "pcnn/core/error.hpp"

namespace pcnn {

const char* to_string(PostOp op) {
  switch (op) {
    case PostOp::rescale:
      return "rescale";
    case PostOp::clip:
      return "clip";
    case PostOp::max_pool:
      return "max_pool";
    case PostOp::average_pool:
      return "average_pool";
    case PostOp::global_average_pool:
      return "global_average_pool";
    case PostOp::global_max_pool:
      return "global_max_pool";
    case PostOp::add:
      return "add";
    case PostOp::concat:
      return "concat";
    case PostOp::resize_nearest:
      return "resize_nearest";
    case PostOp::depth_to_space:
      return "depth_to_space";
  }
  return "unknown";
}

namespace {

std::string dims(const PostTensor& t) {
  return "[" + std::to_string(t.channels) + "," + std::to_string(t.height) + "," +
         std::to_string(t.width) + "]";
}

}  // namespace

void validate_post_op(const PostOpDescriptor& d, const PostProcessConfig& cfg) {
  const std::string where = std::string("post-processing op ") + to_string(d.op);
  auto fail = [&](const std::string& what) { throw Error(where, what); };
  if (static_cast<std::uint32_t>(d.op) < 1 || static_cast<std::uint32_t>(d.op) > kPostOpKinds)
    fail("unknown op code " + std::to_string(static_cast<std::uint32_t>(d.op)));
  const std::size_t n = d.inputs.size();
  const bool many = d.op == PostOp::concat;
  if (n < 1 || (d.op == PostOp::add && n != 2) || (!many && d.op != PostOp::add && n != 1) ||
      n > static_cast<std::size_t>(PostOpDescriptor::kMaxInputs))
    fail("has " + std::to_string(n) + " inputs");
  std::vector<PostTensor> all = d.inputs;
  all.push_back(d.output);
  for (const PostTensor& t : all) {
    if (t.channels < 1 || t.height < 1 || t.width < 1 || t.channels > (1 << 24) ||
        t.height > (1 << 24) || t.width > (1 << 24) || t.bytes() > (std::int64_t{1} << 31))
      fail("tensor size " + dims(t) + " is out of range");
    if (t.address > (std::uint64_t{1} << 48)) fail("tensor address beyond 2^48");
  }
  const PostTensor& x = d.inputs[0];
  const PostTensor& y = d.output;
  if (d.lo < -128 || d.hi > 127 || d.lo > d.hi)
    fail("bounds " + std::to_string(d.lo) + ".." + std::to_string(d.hi) + " are not int8");
  const bool rescales = d.op == PostOp::rescale || d.op == PostOp::add || d.op == PostOp::concat;
  if (rescales) {
    if (d.multipliers.size() != n) fail("needs one multiplier per input");
    if (d.shift < 1 || d.shift > 62) fail("shift " + std::to_string(d.shift) + " is not in 1..62");
    for (auto m : d.multipliers)
      if (m < 0 || m > (std::int64_t{1} << 32))
        fail("multiplier " + std::to_string(m) + " is not in 0..2^32");
  }
  const std::int64_t half = cfg.line_buffer_bytes / 2;
  switch (d.op) {
    case PostOp::clip:
    case PostOp::rescale:
    case PostOp::add:
      for (const PostTensor& t : d.inputs)
        if (t.bytes() != y.bytes())
          fail("input " + dims(t) + " and output " + dims(y) + " differ in size");
      break;
    case PostOp::concat: {
      std::int64_t channels = 0;
      for (const PostTensor& t : d.inputs) {
        if (t.height != y.height || t.width != y.width)
          fail("input planes differ from the output's");
        channels += t.channels;
      }
      if (channels != y.channels) fail("input channels do not add up to the output's");
      break;
    }
    case PostOp::max_pool:
    case PostOp::average_pool: {
      if (d.kernel_h < 1 || d.kernel_w < 1 || d.kernel_h > 64 || d.kernel_w > 64 ||
          d.stride_h < 1 || d.stride_w < 1 || d.dilation_h < 1 || d.dilation_w < 1 ||
          d.stride_h > 64 || d.stride_w > 64 || d.dilation_h > 64 || d.dilation_w > 64 ||
          d.pad_top < 0 || d.pad_left < 0 || d.pad_bottom < 0 || d.pad_right < 0 ||
          d.pad_top > 64 || d.pad_left > 64 || d.pad_bottom > 64 || d.pad_right > 64)
        fail("window parameters out of range");
      if (y.channels != x.channels) fail("output channels differ from the input's");
      // Every window starts inside the padded input.
      if ((y.height - 1) * d.stride_h - d.pad_top >= x.height + d.pad_bottom ||
          (y.width - 1) * d.stride_w - d.pad_left >= x.width + d.pad_right)
        fail("output " + dims(y) + " does not fit the window on input " + dims(x));
      const std::int64_t rows =
          std::min<std::int64_t>(x.height, std::int64_t{d.kernel_h - 1} * d.dilation_h + 1);
      if (rows * x.width > half)
        fail("a window's " + std::to_string(rows) + " input rows of " + std::to_string(x.width) +
             " pixels exceed half the line buffer (" + std::to_string(half) +
             " bytes) even for one channel");
      break;
    }
    case PostOp::global_average_pool:
    case PostOp::global_max_pool:
      if (y.channels != x.channels || y.height != 1 || y.width != 1)
        fail("output " + dims(y) + " is not [C,1,1] of input " + dims(x));
      break;
    case PostOp::resize_nearest: {
      if (y.channels != x.channels) fail("output channels differ from the input's");
      if (y.height > PostOpDescriptor::kMaxTableEntries ||
          y.width > PostOpDescriptor::kMaxTableEntries)
        fail("output " + dims(y) + " is larger than the index tables (" +
             std::to_string(PostOpDescriptor::kMaxTableEntries) + ")");
      if (static_cast<std::int64_t>(d.rows.size()) != y.height ||
          static_cast<std::int64_t>(d.cols.size()) != y.width)
        fail("index tables do not fit the output " + dims(y));
      for (std::size_t i = 0; i < d.rows.size(); ++i)
        if (d.rows[i] < 0 || d.rows[i] >= x.height || (i > 0 && d.rows[i] < d.rows[i - 1]))
          fail("row table is not non-decreasing inside the input");
      for (auto c : d.cols)
        if (c < 0 || c >= x.width)
          fail("column index " + std::to_string(c) + " is outside the input");
      if (x.width > half) fail("an input row of one channel exceeds half the line buffer");
      break;
    }
    case PostOp::depth_to_space: {
      const std::int64_t b = d.block;
      if (b < 1 || b > 64 || x.channels % (b * b) != 0 || y.channels != x.channels / (b * b) ||
          y.height != x.height * b || y.width != x.width * b)
        fail("output " + dims(y) + " does not fit block " + std::to_string(b) + " on input " +
             dims(x));
      if (x.row_bytes() > half)
        fail("an input row of " + std::to_string(x.row_bytes()) +
             " bytes exceeds half the line buffer (" + std::to_string(half) + " bytes)");
      break;
    }
  }
}

bool runs_on_post_process_unit(Int8Op op) {
  switch (op) {
    case Int8Op::conv:
    case Int8Op::gemm:
    case Int8Op::reshape:
      return false;
    default:
      return true;
  }
}

PostOpDescriptor make_post_op(const NetNode& node, const std::vector<NetTensor>& tensors,
                              const std::vector<std::uint64_t>& input_addresses,
                              std::uint64_t output_address) {
  const std::string where = "node '" + node.name + "' (" + to_string(node.op) + ")";
  if (!runs_on_post_process_unit(node.op)) throw Error(where, "is not a post-processing operator");
  if (input_addresses.size() != node.inputs.size())
    throw Error(where, "needs one DRAM address per input");
  auto tensor = [&](int index, std::uint64_t address) {
    if (index < 0 || static_cast<std::size_t>(index) >= tensors.size())
      throw Error(where, "tensor index out of range");
    const NetTensor& t = tensors[static_cast<std::size_t>(index)];
    PostTensor p;
    p.address = address;
    if (t.shape.size() == 4) {
      p.channels = t.shape[1];
      p.height = t.shape[2];
      p.width = t.shape[3];
    } else {
      p.width = t.elements();
    }
    return p;
  };
  PostOpDescriptor d;
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    d.inputs.push_back(tensor(node.inputs[i], input_addresses[i]));
  d.output = tensor(node.output, output_address);
  d.kernel_h = node.kernel_h;
  d.kernel_w = node.kernel_w;
  d.stride_h = node.stride_h;
  d.stride_w = node.stride_w;
  d.dilation_h = node.dilation_h;
  d.dilation_w = node.dilation_w;
  d.pad_top = node.pad_top;
  d.pad_left = node.pad_left;
  d.pad_bottom = node.pad_bottom;
  d.pad_right = node.pad_right;
  d.count_include_pad = node.count_include_pad;
  d.multipliers = node.rescale.multipliers;
  d.shift = node.rescale.shift;
  d.lo = node.lo;
  d.hi = node.hi;
  for (auto r : node.rows) d.rows.push_back(static_cast<std::int32_t>(r));
  for (auto c : node.cols) d.cols.push_back(static_cast<std::int32_t>(c));
  d.block = node.block;
  d.crd = node.crd;
  switch (node.op) {
    case Int8Op::rescale:
      d.op = PostOp::rescale;
      break;
    case Int8Op::relu:
    case Int8Op::clip:
      d.op = PostOp::clip;
      d.multipliers.clear();
      break;
    case Int8Op::max_pool:
      d.op = PostOp::max_pool;
      break;
    case Int8Op::average_pool:
      d.op = PostOp::average_pool;
      break;
    case Int8Op::global_average_pool:
      d.op = PostOp::global_average_pool;
      break;
    case Int8Op::global_max_pool:
      d.op = PostOp::global_max_pool;
      break;
    case Int8Op::add:
      d.op = PostOp::add;
      break;
    case Int8Op::concat:
      d.op = PostOp::concat;
      break;
    case Int8Op::resize_nearest:
      d.op = PostOp::resize_nearest;
      break;
    case Int8Op::depth_to_space:
      d.op = PostOp::depth_to_space;
      break;
    default:
      break;
  }
  if (d.op != PostOp::rescale && d.op != PostOp::add && d.op != PostOp::concat)
    d.multipliers.clear();
  return d;
}

}  // namespace pcnn
