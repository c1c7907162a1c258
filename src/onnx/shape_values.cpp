#include "src/onnx/shape_values.hpp"

#include <algorithm>
#include <unordered_set>

namespace pcnn::onnx_detail {
namespace {

bool is_int_constant(const GraphIndex& index, const std::string& name) {
  const onnx::TensorProto* t = index.constant(name);
  return t &&
         (t->data_type() == onnx::TensorProto::INT64 || t->data_type() == onnx::TensorProto::INT32);
}

}  // namespace

std::vector<std::int64_t> slice_values(const std::vector<std::int64_t>& data, std::int64_t start,
                                       std::int64_t end, std::int64_t step) {
  const auto n = static_cast<std::int64_t>(data.size());
  // ONNX Slice: negative positions count from the back, then clamp to
  // [0, n] going forward or [-1, n - 1] going backward.
  const std::int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? n : n - 1;
  auto clamp = [&](std::int64_t a) {
    if (a < 0) a += n;
    return std::min(std::max(a, lo), hi);
  };
  std::vector<std::int64_t> out;
  for (std::int64_t i = clamp(start), e = clamp(end); step > 0 ? i < e : i > e; i += step)
    out.push_back(data[static_cast<std::size_t>(i)]);
  return out;
}

ShapeValues::ShapeValues(const onnx::GraphProto& graph, const GraphIndex& index) : index_(index) {
  static const std::unordered_set<std::string> passing = {"Gather",  "Slice",  "Unsqueeze",
                                                          "Squeeze", "Concat", "Cast"};
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    if (node.output_size() < 1) continue;
    bool shape_node = is_onnx_op(node, "Shape");
    if (!shape_node && (node.domain().empty() || node.domain() == "ai.onnx") &&
        passing.count(node.op_type())) {
      bool all = true, any = false;
      for (const std::string& in : node.input()) {
        if (in.empty()) continue;
        const bool value = tensors_.count(in) > 0;
        any = any || value;
        all = all && (value || is_int_constant(index, in));
      }
      shape_node = all && any;
    }
    if (!shape_node) continue;
    nodes_.insert(i);
    tensors_.insert(node.output(0));
  }
}

std::vector<std::int64_t> ShapeValues::value(
    const std::string& tensor, const TensorContext& ctx,
    const std::function<void(const std::string&)>& fail) const {
  if (const auto it = values_.find(tensor); it != values_.end()) return it->second;
  if (is_int_constant(index_, tensor)) return decode_int_tensor(*index_.constant(tensor), ctx);
  fail("input '" + tensor + "' is neither an integer constant nor computed from shapes");
  return {};
}

void ShapeValues::evaluate(
    const onnx::NodeProto& node, const TensorContext& ctx,
    const std::function<std::vector<std::int64_t>(const std::string&)>& shape_of,
    const std::function<void(const std::string&)>& fail) {
  const std::string& op = node.op_type();
  auto input = [&](int k) {
    if (k >= node.input_size() || node.input(k).empty()) fail("missing input " + std::to_string(k));
    return node.input(k);
  };
  std::vector<std::int64_t> out;
  if (op == "Shape") {
    const std::vector<std::int64_t> s = shape_of(input(0));
    const auto rank = static_cast<std::int64_t>(s.size());
    auto clamp = [&](std::int64_t a) {  // opset 15 start / end: negative from the back
      if (a < 0) a += rank;
      return std::min(std::max<std::int64_t>(a, 0), rank);
    };
    const std::int64_t start = clamp(int_attribute(node, "start", 0));
    const std::int64_t end = clamp(int_attribute(node, "end", rank));
    for (std::int64_t d = start; d < end; ++d) out.push_back(s[static_cast<std::size_t>(d)]);
  } else if (op == "Gather") {
    if (int_attribute(node, "axis", 0) != 0) fail("a Gather on shape values must use axis 0");
    const std::vector<std::int64_t> data = value(input(0), ctx, fail);
    const auto n = static_cast<std::int64_t>(data.size());
    for (std::int64_t i : value(input(1), ctx, fail)) {
      if (i < -n || i >= n)
        fail("index " + std::to_string(i) + " outside a shape of " + std::to_string(n) +
             " dimensions");
      out.push_back(data[static_cast<std::size_t>(i < 0 ? i + n : i)]);
    }
  } else if (op == "Slice") {
    // Opset 10+: data, starts, ends, optional axes and steps, on a 1-D list.
    const std::vector<std::int64_t> data = value(input(0), ctx, fail);
    auto one = [&](int k, std::int64_t absent) {
      if (k >= node.input_size() || node.input(k).empty()) return absent;
      const std::vector<std::int64_t> v = value(node.input(k), ctx, fail);
      if (v.size() != 1) fail("a Slice on shape values takes one start, end, axis and step");
      return v[0];
    };
    const std::int64_t axis = one(3, 0), step = one(4, 1);
    if (axis != 0 && axis != -1) fail("a Slice on shape values must use axis 0");
    if (step == 0) fail("has a Slice step of 0");
    out = slice_values(data, one(1, 0), one(2, 0), step);
  } else if (op == "Concat") {
    for (int k = 0; k < node.input_size(); ++k) {
      const std::vector<std::int64_t> part = value(input(k), ctx, fail);
      out.insert(out.end(), part.begin(), part.end());
    }
  } else {  // Unsqueeze, Squeeze, Cast: the same values
    out = value(input(0), ctx, fail);
  }
  values_[node.output(0)] = std::move(out);
}

}  // namespace pcnn::onnx_detail
