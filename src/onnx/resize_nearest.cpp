#include "src/onnx/resize_nearest.hpp"

#include <cmath>

#include "src/onnx/graph_index.hpp"

namespace pcnn::onnx_detail {

std::int64_t nearest_source(std::int64_t x, std::int64_t in_len, std::int64_t out_len, double scale,
                            const std::string& coordinate_mode, const std::string& nearest_mode) {
  const double xd = static_cast<double>(x);
  double orig = 0.0;
  if (coordinate_mode == "half_pixel") {
    orig = (xd + 0.5) / scale - 0.5;
  } else if (coordinate_mode == "pytorch_half_pixel") {
    orig = out_len > 1 ? (xd + 0.5) / scale - 0.5 : 0.0;
  } else if (coordinate_mode == "align_corners") {
    orig =
        out_len > 1 ? xd * static_cast<double>(in_len - 1) / static_cast<double>(out_len - 1) : 0.0;
  } else if (coordinate_mode == "asymmetric") {
    orig = xd / scale;
  } else {  // tf_half_pixel_for_nn
    orig = (xd + 0.5) / scale;
  }
  double src = 0.0;
  const double fl = std::floor(orig);
  if (nearest_mode == "floor") {
    src = fl;
  } else if (nearest_mode == "ceil") {
    src = std::ceil(orig);
  } else if (orig - fl == 0.5) {
    src = nearest_mode == "round_prefer_ceil" ? fl + 1.0 : fl;
  } else {
    src = std::round(orig);
  }
  const auto i = static_cast<std::int64_t>(src);
  return i < 0 ? 0 : (i >= in_len ? in_len - 1 : i);
}

NearestResize read_nearest_resize(const onnx::NodeProto& node, std::int64_t opset,
                                  const std::vector<std::int64_t>& in_shape,
                                  const ResizeConstants& constants,
                                  const std::function<void(const std::string&)>& fail) {
  if (in_shape.size() != 4 || in_shape[0] != 1) fail("expects a batch-1 NCHW input");
  const bool upsample = node.op_type() == "Upsample";
  const std::string mode = string_attribute(node, "mode", "nearest");
  if (mode != "nearest") fail("mode '" + mode + "' is not supported (only nearest)");
  // Upsample and Resize before opset 11 map x_out to floor(x_out / scale).
  const bool legacy = upsample || opset < 11;
  const std::string coord =
      legacy ? "asymmetric"
             : string_attribute(node, "coordinate_transformation_mode", "half_pixel");
  const std::string rounding =
      legacy ? "floor" : string_attribute(node, "nearest_mode", "round_prefer_floor");
  if (coord != "half_pixel" && coord != "pytorch_half_pixel" && coord != "align_corners" &&
      coord != "asymmetric" && coord != "tf_half_pixel_for_nn")
    fail("coordinate_transformation_mode '" + coord + "' is not supported");
  if (rounding != "round_prefer_floor" && rounding != "round_prefer_ceil" && rounding != "floor" &&
      rounding != "ceil")
    fail("nearest_mode '" + rounding + "' is not supported");

  auto input_name = [&](int k) -> std::string {
    return k < node.input_size() ? node.input(k) : std::string();
  };
  std::vector<double> scales;
  std::vector<std::int64_t> sizes;
  if (upsample && opset < 9) {
    const auto* a = find_attribute(node, "scales");
    if (!a) fail("has no scales");
    for (float f : a->floats()) scales.push_back(f);
  } else {
    const std::string scales_name = input_name(upsample || opset < 11 ? 1 : 2);
    const std::string sizes_name = upsample || opset < 11 ? std::string() : input_name(3);
    if (!scales_name.empty()) {
      const std::vector<float>* v = constants.floats(scales_name);
      if (!v) fail("scales '" + scales_name + "' must be a constant float tensor");
      for (float f : *v) scales.push_back(f);
    }
    if (scales.empty() && !sizes_name.empty()) {
      sizes = constants.ints(sizes_name);
      if (sizes.empty()) fail("sizes '" + sizes_name + "' must be a constant integer tensor");
    }
    if (scales.empty() && sizes.empty()) fail("has neither scales nor sizes");
  }
  if (!scales.empty() && scales.size() != 4) fail("needs 4 scales for an NCHW input");
  if (!sizes.empty() && sizes.size() != 4) fail("needs 4 sizes for an NCHW input");
  NearestResize r;
  double sh = 0.0, sw = 0.0;
  if (!scales.empty()) {
    if (scales[0] != 1.0 || scales[1] != 1.0) fail("may resize only height and width");
    if (!(scales[2] > 0.0) || !(scales[3] > 0.0) || !std::isfinite(scales[2]) ||
        !std::isfinite(scales[3]))
      fail("scales must be positive");
    sh = scales[2];
    sw = scales[3];
    r.out_h = static_cast<std::int64_t>(std::floor(static_cast<double>(in_shape[2]) * sh));
    r.out_w = static_cast<std::int64_t>(std::floor(static_cast<double>(in_shape[3]) * sw));
  } else {
    if (sizes[0] != in_shape[0] || sizes[1] != in_shape[1])
      fail("may resize only height and width");
    r.out_h = sizes[2];
    r.out_w = sizes[3];
    sh = static_cast<double>(r.out_h) / static_cast<double>(in_shape[2]);
    sw = static_cast<double>(r.out_w) / static_cast<double>(in_shape[3]);
  }
  if (r.out_h < 1 || r.out_w < 1 || r.out_h > (1 << 20) || r.out_w > (1 << 20))
    fail("output size " + std::to_string(r.out_h) + "x" + std::to_string(r.out_w) +
         " is empty or too large");
  for (std::int64_t y = 0; y < r.out_h; ++y)
    r.rows.push_back(nearest_source(y, in_shape[2], r.out_h, sh, coord, rounding));
  for (std::int64_t x = 0; x < r.out_w; ++x)
    r.cols.push_back(nearest_source(x, in_shape[3], r.out_w, sw, coord, rounding));
  return r;
}

}  // namespace pcnn::onnx_detail
