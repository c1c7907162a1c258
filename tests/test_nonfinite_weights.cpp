// NaN and infinite weights, biases, batch normalisation parameters and scales are
// refused where they are read, in one line naming the file and the tensor.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "prune_test_support.hpp"

namespace {

using pcnn_test::TempDir;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string load_error(const std::string& path) {
  try {
    pcnn::OnnxModel::load(path);
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "accepted";
}

const char* kFinite = "; weights, biases and other float constants must be finite";

// conv c1 (3 -> 4, bias) -> relu -> conv c2 -> GAP -> flatten -> gemm fc. `poison`
// edits the given weights before the model is built.
struct NetValues {
  std::vector<float> c1_weights = std::vector<float>(4 * 3 * 9, 0.1f);
  std::vector<float> c1_bias = std::vector<float>(4, 0.0f);
  std::vector<float> fc_weights = std::vector<float>(3 * 4, 0.2f);
  std::vector<float> bn_var = std::vector<float>(4, 1.0f);
  float clip_hi = 6.0f;
};

void write_net(const std::string& path, const NetValues& v,
               pcnn::WeightStorage storage = pcnn::WeightStorage::raw_data) {
  pcnn::ModelBuilder b("net", {1, 3, 8, 8}, 2);
  std::string x = b.conv(b.input(), 4, pcnn::ConvOptions{3, 1, -1, 1, 1, true, ""}, v.c1_weights,
                         v.c1_bias, "c1");
  x = b.batch_norm(x, std::vector<float>(4, 1.0f), std::vector<float>(4, 0.0f),
                   std::vector<float>(4, 0.0f), v.bn_var, 1e-5f, "bn1");
  x = b.clip(x, 0.0f, v.clip_hi, "act");
  x = b.conv(x, 4, pcnn::ConvOptions{}, "c2");
  b.output(b.gemm(b.flatten(b.global_average_pool(x, "gap"), "flat"), 3, v.fc_weights,
                  std::vector<float>(3, 0.0f), "fc"));
  b.write(path, storage);
}

}  // namespace

TEST_CASE("NaN and infinite float constants are named with the file and the tensor",
          "[onnx][prune][bounded]") {
  TempDir tmp;
  const std::string path = tmp / "m.onnx";
  for (const auto storage : {pcnn::WeightStorage::raw_data, pcnn::WeightStorage::typed_fields,
                             pcnn::WeightStorage::constant_nodes}) {
    NetValues v;
    v.c1_weights[17] = kNaN;
    write_net(path, v, storage);
    CHECK(load_error(path) ==
          path + ": tensor 'c1.weight' (read by Conv 'c1'): value 17 of 108 is NaN" + kFinite);
  }
  NetValues v;
  v.c1_bias[3] = -kInf;
  write_net(path, v);
  CHECK(load_error(path) ==
        path + ": tensor 'c1.bias' (read by Conv 'c1'): value 3 of 4 is -Inf" + kFinite);
  v = NetValues();
  v.fc_weights[0] = kInf;
  write_net(path, v);
  CHECK(load_error(path) ==
        path + ": tensor 'fc.weight' (read by Gemm 'fc'): value 0 of 12 is +Inf" + kFinite);
  // An infinite Clip bound means "no bound" and is kept; NaN is not.
  v = NetValues();
  v.clip_hi = kInf;
  write_net(path, v);
  CHECK(load_error(path) == "accepted");
  v.clip_hi = kNaN;
  write_net(path, v);
  CHECK(load_error(path) ==
        path + ": tensor 'act.max' (read by Clip 'act'): value 0 of 1 is NaN" + kFinite);
  // Finite parameters whose batch normalisation is not: a negative variance.
  v = NetValues();
  v.bn_var[2] = -1.0f;
  write_net(path, v);
  CHECK(load_error(path) == path +
                                ": conv 'c1': the BatchNormalization after it gives channel 2 a "
                                "non-finite scale or shift (variance + epsilon must be positive)");

  // pcnn-prune: one line, failure status, no output folder.
  v = NetValues();
  v.c1_weights[5] = kNaN;
  write_net(path, v);
  const pcnn_test::RunResult r =
      pcnn_test::run_program(tmp, "pcnn-prune", "'" + path + "' -o '" + tmp / "out" + "'");
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-prune: " + path +
                     ": tensor 'c1.weight' (read by Conv 'c1'): value 5 of 108 is NaN" + kFinite +
                     "\n");
  CHECK(!std::filesystem::exists(tmp / "out"));
}

TEST_CASE("the int8 network reader refuses a non-finite gemm weight scale", "[network][bounded]") {
  TempDir tmp;
  write_net(tmp / "m.onnx", NetValues());
  const pcnn_test::RunResult r = pcnn_test::run_program(
      tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "out" + "' --calib-samples 2");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const pcnn::ModelImages images = pcnn::read_model_images(tmp / "out");
  const std::string json_path = tmp / "out/network.json";
  CHECK_NOTHROW(pcnn::read_int8_network(tmp / "out", images.layers));
  nlohmann::json doc = nlohmann::json::parse(pcnn_test::slurp(json_path));
  REQUIRE(doc["gemm_layers"].size() == 1);
  doc["gemm_layers"][0]["weight_scale"][1] = 1e39;  // beyond float: +Inf when read
  std::ofstream(json_path) << doc.dump(1);
  try {
    pcnn::read_int8_network(tmp / "out", images.layers);
    FAIL("accepted");
  } catch (const pcnn::Error& e) {
    CHECK(std::string(e.what()) ==
          json_path + ": gemm 'fc': weight_scale[1] is not a positive finite number");
  }
}
