// Reshape with a computed shape, as PyTorch exports x.view(x.size(0), -1):
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, or as TensorFlow
// exporters write it with a Slice (Shape -> Slice -> Concat). Such a model
// loads, calibrates, prunes with its whole network written, and runs in
// pcnn-sim golden with the outputs of the same model with a constant shape.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "onnx_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "prune_test_support.hpp"
#include "src/onnx/shape_values.hpp"

using pcnn_test::TempDir;

namespace {

// conv - relu - max pool - conv - relu - view(N, -1) - Gemm; `computed`
// chooses the exported form of the view. The same seed and names: the same
// weights either way.
void write_model(const std::string& path, bool computed) {
  pcnn::ModelBuilder b("view", {1, 3, 8, 8}, 7);
  const std::string x =
      b.relu(b.conv(b.max_pool(b.relu(b.conv(b.input(), 6, {}, "c1")), 2, 2), 5, {}, "c2"));
  b.gemm(computed ? b.flatten_computed(x, "view") : b.reshape(x, {1, -1}, "view"), 4, "fc");
  b.write(path);
}

// pcnn-prune NAME.onnx -o NAME-img; the whole network must be written.
void prune_with_network(const TempDir& tmp, const std::string& name) {
  const pcnn_test::Run r =
      pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + tmp / name + ".onnx -o " +
                             tmp / name + "-img --calib-samples 4");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("network: network.json with") != std::string::npos);
}

}  // namespace

TEST_CASE("a Reshape to a shape computed from Shape, Gather and Concat prunes and runs",
          "[onnx][network]") {
  TempDir tmp;
  write_model(tmp / "computed.onnx", true);
  write_model(tmp / "constant.onnx", false);

  // The float pass evaluates the shape nodes: both forms give the same tensors.
  const pcnn::OnnxModel a = pcnn::OnnxModel::load(tmp / "computed.onnx");
  const pcnn::OnnxModel b = pcnn::OnnxModel::load(tmp / "constant.onnx");
  REQUIRE(a.convs().size() == 2);
  auto calibrate = [](const pcnn::OnnxModel& m) {
    std::vector<std::vector<float>> weights;
    for (const pcnn::FloatConv& c : m.convs()) weights.push_back(c.weights);
    return m.calibrate_with(weights, 2, [](int s, std::vector<float>& x) {
      for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>((i * 5 + static_cast<std::size_t>(s)) % 7) - 3.0f;
    });
  };
  const pcnn::Calibration ca = calibrate(a), cb = calibrate(b);
  CHECK(ca.tensors.at("view_out").shape == std::vector<std::int64_t>{1, 80});
  CHECK(ca.tensors.at("fc_out").absmax == cb.tensors.at("fc_out").absmax);
  CHECK(ca.tensors.at("fc_out").min == cb.tensors.at("fc_out").min);
  CHECK(ca.tensors.count("view_concat_out") == 0);  // shape values are no activations

  for (const char* m : {"computed", "constant"}) prune_with_network(tmp, m);
  // The int8 network leaves the shape nodes out; the view is one reshape.
  const pcnn::GoldenNetwork g = pcnn::GoldenNetwork::load(tmp / "computed-img");
  const pcnn::GoldenNetwork h = pcnn::GoldenNetwork::load(tmp / "constant-img");
  CHECK(g.network().nodes.size() == h.network().nodes.size());
  int reshapes = 0;
  for (const pcnn::NetNode& n : g.network().nodes) reshapes += n.op == pcnn::Int8Op::reshape;
  CHECK(reshapes == 1);

  // pcnn-sim golden: the same classes and values for both exports.
  std::ofstream(tmp / "x.ppm", std::ios::binary) << "P6\n8 8\n255\n" << std::string(192, '\x60');
  std::string outs[2];
  int k = 0;
  for (const char* m : {"computed", "constant"}) {
    const pcnn_test::Run r = pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " golden " +
                                                    tmp / m + "-img --input " + tmp / "x.ppm");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("output 1x4") != std::string::npos);
    outs[k++] = r.out;
  }
  CHECK(outs[0] == outs[1]);
}

TEST_CASE("a computed Reshape shape that is not made of shapes is refused with its node",
          "[onnx]") {
  TempDir tmp;
  // A Gather on a float activation is no shape computation: the float
  // interpreter names it instead of guessing.
  pcnn::ModelBuilder b("gather", {1, 2, 4, 4}, 3);
  b.node("Gather", {b.conv(b.input(), 3, {}, "c"), b.constant("idx", {1}, {0.0f})}, {1, 3, 4, 4},
         "pick");
  b.write(tmp / "m.onnx");
  try {
    const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "m.onnx");
    m.calibrate_random({m.convs()[0].weights}, 1, 1);
    FAIL("no error");
  } catch (const pcnn::Error& e) {
    CHECK(std::string(e.what()).find("node 'pick' (Gather): operator Gather is not supported") !=
          std::string::npos);
  }
}

namespace {

// The computed view of write_model with its Gather and Unsqueeze replaced by
// Slice(shape, starts, ends[, axes, steps]) giving the 1-D [N] directly.
void write_slice_model(const std::string& path, const std::vector<std::int64_t>& starts_ends,
                       const std::vector<std::int64_t>& axes_steps) {
  write_model(path, true);
  onnx::ModelProto m = pcnn_test::read_proto(path);
  onnx::GraphProto& g = *m.mutable_graph();
  auto int64s = [&](const std::string& name, std::int64_t v) {
    onnx::TensorProto& t = *g.add_initializer();
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(1);
    t.add_int64_data(v);
    return name;
  };
  std::string slice_out;
  for (int i = 0; i < g.node_size(); ++i) {
    onnx::NodeProto& n = *g.mutable_node(i);
    if (n.name() == "view_gather") {
      const std::string shape = n.input(0);
      n.set_op_type("Slice");
      n.clear_attribute();
      n.clear_input();
      n.add_input(shape);
      const char* names[] = {"view.starts", "view.ends", "view.axes", "view.steps"};
      std::vector<std::int64_t> v = starts_ends;
      v.insert(v.end(), axes_steps.begin(), axes_steps.end());
      for (std::size_t k = 0; k < v.size(); ++k) n.add_input(int64s(names[k], v[k]));
      slice_out = n.output(0);
    }
  }
  for (int i = 0; i < g.node_size(); ++i)
    if (g.node(i).name() == "view_unsqueeze") {
      g.mutable_node()->DeleteSubrange(i, 1);
      break;
    }
  for (onnx::NodeProto& n : *g.mutable_node())
    if (n.name() == "view_concat") n.set_input(0, slice_out);
  pcnn_test::write_proto(m, path);
}

}  // namespace

TEST_CASE("Slice on shape values follows ONNX's rules for negative and out-of-range positions",
          "[onnx]") {
  using pcnn::onnx_detail::slice_values;
  using V = std::vector<std::int64_t>;
  const V s = {1, 8, 4, 2};
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK(slice_values(s, 0, 1, 1) == V{1});
  CHECK(slice_values(s, 1, big, 1) == V{8, 4, 2});
  CHECK(slice_values(s, -3, -1, 1) == V{8, 4});
  CHECK(slice_values(s, 0, 4, 2) == V{1, 4});
  CHECK(slice_values(s, -1, std::numeric_limits<std::int64_t>::min(), -1) == V{2, 4, 8, 1});
  CHECK(slice_values(s, 3, 0, -2) == V{2, 8});
  CHECK(slice_values(s, 5, 9, 1) == V{});
  CHECK(slice_values(s, -9, 2, 1) == V{1, 8});
}

TEST_CASE("a Reshape to a shape computed with Slice prunes and runs like a constant shape",
          "[onnx][network]") {
  TempDir tmp;
  write_model(tmp / "constant.onnx", false);
  write_slice_model(tmp / "slice.onnx", {0, 1}, {});            // x.shape[:1]
  write_slice_model(tmp / "negative.onnx", {-4, -3}, {-1, 1});  // from the back, axis -1
  std::ofstream(tmp / "x.ppm", std::ios::binary) << "P6\n8 8\n255\n" << std::string(192, '\x50');
  std::string constant_out;
  for (const char* m : {"constant", "slice", "negative"}) {
    INFO(m);
    prune_with_network(tmp, m);
    const pcnn_test::Run r = pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " golden " +
                                                    tmp / m + "-img --input " + tmp / "x.ppm");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("output 1x4") != std::string::npos);
    if (constant_out.empty())
      constant_out = r.out;
    else
      CHECK(r.out == constant_out);
  }
  const pcnn::GoldenNetwork g = pcnn::GoldenNetwork::load(tmp / "slice-img");
  int reshapes = 0;
  for (const pcnn::NetNode& n : g.network().nodes) reshapes += n.op == pcnn::Int8Op::reshape;
  CHECK(reshapes == 1);

  // A Slice along another axis of a 1-D shape is refused with its node.
  write_slice_model(tmp / "axis.onnx", {0, 1}, {1, 1});
  try {
    const pcnn::OnnxModel bad = pcnn::OnnxModel::load(tmp / "axis.onnx");
    std::vector<std::vector<float>> weights;
    for (const pcnn::FloatConv& c : bad.convs()) weights.push_back(c.weights);
    bad.calibrate_random(weights, 1, 1);
    FAIL("no error");
  } catch (const pcnn::Error& e) {
    CHECK(std::string(e.what()).find("view_gather") != std::string::npos);
    CHECK(std::string(e.what()).find("a Slice on shape values must use axis 0") !=
          std::string::npos);
  }
}
