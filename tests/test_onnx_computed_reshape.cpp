// Reshape with a computed shape, as PyTorch exports x.view(x.size(0), -1):
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape. Such a model loads,
// calibrates, prunes with its whole network written, and runs in
// pcnn-sim golden with the outputs of the same model with a constant shape.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "prune_test_support.hpp"

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

  for (const char* m : {"computed", "constant"}) {
    const pcnn_test::Run r =
        pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + tmp / m + ".onnx -o " +
                               tmp / m + "-img --calib-samples 4");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("network: network.json with") != std::string::npos);
  }
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
