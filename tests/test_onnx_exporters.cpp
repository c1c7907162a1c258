// Models as exporters write them: free input sizes, Resize scales held in
// constants, value_info, Concat, batch > 1, unsupported conv flavours, and
// calibration on real data or not at all.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

std::vector<std::vector<float>> weights_of(const pcnn::OnnxModel& m) {
  std::vector<std::vector<float>> w;
  for (const auto& c : m.convs()) w.push_back(c.weights);
  return w;
}

// A float32 .npy file.
void write_float_npy(const std::string& path, const std::vector<float>& v,
                     const std::vector<std::int64_t>& shape) {
  pcnn_test::write_npy(path, "<f4", shape, v.data(), v.size() * 4);
}

std::string run_prune(const std::string& args, int* status) {
  const pcnn_test::Run r = pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + args);
  *status = r.status;
  return r.out;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("a model with free input height and width loads with an input shape",
          "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("fcn", {1, 3, 12, 10}, 3);
  const std::string c1 = b.relu(b.conv(b.input(), 4));
  b.conv(b.max_pool(c1, 2, 2), 5, pcnn::ConvOptions{3, 2, -1, 1, 1, false, ""});
  b.free_input_size();
  b.write(tmp / "fcn.onnx");
  try {
    pcnn::OnnxModel::load(tmp / "fcn.onnx");
    FAIL("free dimensions were accepted without a shape");
  } catch (const pcnn::Error& e) {
    CHECK(std::string(e.what()).find("free dimensions [1,3,?,?]") != std::string::npos);
    CHECK(std::string(e.what()).find("--input-shape") != std::string::npos);
  }
  pcnn::LoadOptions opt;
  opt.input_shape = {1, 3, 20, 18};
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "fcn.onnx", opt);
  REQUIRE(m.convs().size() == 2);
  CHECK(m.convs()[0].geom.in_h == 20);
  CHECK(m.convs()[0].geom.in_w == 18);
  CHECK(m.convs()[1].geom.in_h == 10);
  CHECK(m.convs()[1].geom.in_w == 9);
  CHECK(m.input_shape() == std::vector<std::int64_t>{1, 3, 20, 18});
  CHECK(m.calibrate(weights_of(m), 1, 1).size() == 2);
  // A static dimension must agree.
  opt.input_shape = {1, 4, 20, 18};
  CHECK_THROWS_WITH(pcnn::OnnxModel::load(tmp / "fcn.onnx", opt),
                    Catch::Contains("disagrees") && Catch::Contains("dimension 1"));
  CHECK_THROWS_WITH(pcnn::parse_input_shape("1x3x0x4", "--input-shape"),
                    Catch::Contains("--input-shape"));
  CHECK_THROWS_WITH(pcnn::parse_input_shape("2x3x8x8", "--input-shape"), Catch::Contains("batch"));
  CHECK_THROWS(pcnn::parse_input_shape("1x3x8", "--input-shape"));
  CHECK(pcnn::parse_input_shape("1x3x64x48", "-") == std::vector<std::int64_t>{1, 3, 64, 48});

  // The same through pcnn-prune.
  int status = 0;
  std::string out = run_prune(tmp / "fcn.onnx" + " -o " + tmp / "o1", &status);
  CHECK(status != 0);
  CHECK(out.find("--input-shape") != std::string::npos);
  out = run_prune(tmp / "fcn.onnx" + " -o " + tmp / "o2 --input-shape 1x3x16x16", &status);
  INFO(out);
  CHECK(status == 0);
}

TEST_CASE("Resize scales from an initializer or a Constant reach shape inference",
          "[onnx][exporters]") {
  TempDir tmp;
  for (const auto storage : {pcnn::WeightStorage::raw_data, pcnn::WeightStorage::constant_nodes,
                             pcnn::WeightStorage::typed_fields}) {
    pcnn::ModelBuilder b("up", {1, 2, 5, 4}, 9);
    const std::string c1 = b.relu(b.conv(b.input(), 3));
    const std::string up = b.resize_nearest(c1, 2);
    b.conv(up, 4, {}, "after_resize");
    b.write(tmp / "up.onnx", storage);
    const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "up.onnx");
    REQUIRE(m.convs().size() == 2);
    CHECK(m.convs()[1].geom.in_h == 10);
    CHECK(m.convs()[1].geom.in_w == 8);
    // Calibration runs through the Resize.
    const pcnn::Calibration cal = m.calibrate_random(weights_of(m), 2, 4);
    CHECK(cal.tensors.at(up).shape == std::vector<std::int64_t>{1, 3, 10, 8});
    // Nearest resize keeps the scale of its input.
    CHECK(cal.tensors.at(up).absmax == cal.tensors.at(c1).absmax);
    CHECK(cal.convs[1].input_absmax == cal.tensors.at(c1).absmax);
  }
}

TEST_CASE("the float pass runs Resize, Concat, DepthToSpace and Clip as ONNX defines them",
          "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("ops", {1, 4, 2, 3}, 1);
  const std::string up = b.resize_nearest(b.input(), 2, "half_pixel", "round_prefer_floor");
  const std::string cat = b.concat({up, up});
  const std::string d2s = b.depth_to_space(cat, 2, "DCR");
  b.clip(d2s, -0.5f, 0.75f);
  b.write(tmp / "ops.onnx");
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "ops.onnx");
  std::vector<float> x(24);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i) - 1.0f;
  const std::vector<float> y = m.run({}, x);
  REQUIRE(y.size() == 2u * 8 * 12);
  // By the definitions: resize(c, Y, X) = x[c][Y/2][X/2] (factor 2, half_pixel,
  // round_prefer_floor); concat doubles the channels; DCR depth-to-space:
  // out[c][Y][X] = cat[((Y%2)*2 + X%2) * 2 + c][Y/2][X/2].
  for (int c = 0; c < 2; ++c)
    for (int Y = 0; Y < 8; ++Y)
      for (int X = 0; X < 12; ++X) {
        const int cc = ((Y % 2) * 2 + X % 2) * 2 + c;  // channel of cat
        const int ry = Y / 2, rx = X / 2;              // pixel of the resized tensor
        const float v = x[static_cast<std::size_t>(((cc % 4) * 2 + ry / 2) * 3 + rx / 2)];
        CHECK(y[static_cast<std::size_t>((c * 8 + Y) * 12 + X)] ==
              std::min(std::max(v, -0.5f), 0.75f));
      }
}

TEST_CASE("user value_info is kept for shape inference", "[onnx][exporters]") {
  TempDir tmp;
  // An operator ONNX shape inference does not know: only the exporter's
  // value_info gives the next conv its input shape.
  pcnn::ModelBuilder b("vi", {1, 2, 6, 6}, 2);
  const std::string c1 = b.conv(b.input(), 3);
  const std::string odd = b.node("PcnnUnknownOp", {c1}, {1, 3, 6, 6}, "odd");
  b.conv(odd, 2);
  b.write(tmp / "no_vi.onnx");
  b.value_info(odd);
  b.write(tmp / "vi.onnx");
  CHECK_THROWS_WITH(pcnn::OnnxModel::load(tmp / "no_vi.onnx"),
                    Catch::Contains("cannot infer the shape of its input 'odd_out'"));
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "vi.onnx");
  REQUIRE(m.convs().size() == 2);
  CHECK(m.convs()[1].geom.in_channels == 3);
  CHECK(m.convs()[1].geom.in_h == 6);
}

TEST_CASE("calibration runs through Concat and the conv after it sees the concatenation",
          "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("cat", {1, 3, 8, 8}, 5);
  const std::string a = b.relu(b.conv(b.input(), 4));
  const std::string c = b.conv(b.input(), 2);
  const std::string cat = b.concat({a, c});
  b.conv(cat, 3, {}, "after_concat");
  b.write(tmp / "cat.onnx");
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "cat.onnx");
  REQUIRE(m.convs().size() == 3);
  CHECK(m.convs()[2].geom.in_channels == 6);
  const pcnn::Calibration cal = m.calibrate_random(weights_of(m), 3, 8);
  const float expected = std::max(cal.tensors.at(a).absmax, cal.tensors.at(c).absmax);
  CHECK(cal.tensors.at(cat).absmax == expected);
  CHECK(cal.convs[2].input_absmax == expected);
  CHECK(cal.tensors.at(a).min >= 0.0f);
  CHECK(cal.tensors.at(c).min < 0.0f);
}

TEST_CASE("pcnn-prune calibrates on real data from a directory or a .npy batch",
          "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("small", {1, 2, 6, 6}, 5);
  b.conv(b.relu(b.conv(b.input(), 4)), 3);
  b.write(tmp / "m.onnx");
  std::filesystem::create_directory(tmp / "calib");
  std::vector<float> batch;
  for (int i = 0; i < 3; ++i) {
    std::vector<float> x(72);
    for (std::size_t k = 0; k < x.size(); ++k)
      x[k] = 3.0f * std::sin(0.37f * static_cast<float>(k + 11 * i));
    write_float_npy(tmp / ("calib/img" + std::to_string(i) + ".npy"), x, {1, 2, 6, 6});
    batch.insert(batch.end(), x.begin(), x.end());
  }
  write_float_npy(tmp / "batch.npy", batch, {3, 2, 6, 6});
  std::ofstream(tmp / "calib/readme.txt") << "not an input\n";

  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "m.onnx");
  pcnn::PruneOptions opt;
  opt.calib_path = tmp / "calib";
  const pcnn::PrunedModel from_dir = pcnn::prune_model(m, opt);
  CHECK(from_dir.calibration.status == "data");
  CHECK(from_dir.calibration.samples == 3);
  opt.calib_path = tmp / "batch.npy";
  const pcnn::PrunedModel from_batch = pcnn::prune_model(m, opt);
  CHECK(from_batch.calibration.samples == 3);
  CHECK(from_batch.images.layers[0].input_scale == from_dir.images.layers[0].input_scale);
  CHECK(from_batch.images.layers[1].output_scale == from_dir.images.layers[1].output_scale);
  // The input range is the data's (3), not that of N(0, 1) draws.
  CHECK(from_dir.images.layers[0].input_scale == Approx(3.0f / 127.0f).epsilon(0.01));
  opt.calib_path.clear();
  const pcnn::PrunedModel random = pcnn::prune_model(m, opt);
  CHECK(random.calibration.status == "random");
  CHECK(random.images.layers[0].input_scale != from_dir.images.layers[0].input_scale);

  int status = 0;
  std::string out = run_prune(tmp / "m.onnx -o " + tmp / "o --calib " + tmp / "calib", &status);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("calibration: 3 input(s), data from") != std::string::npos);
  CHECK(read_json(tmp / "o/report.json")["calibration"]["status"] == "data");
  // Bad calibration data fails the run, naming the file, and writes nothing.
  write_float_npy(tmp / "wrong.npy", std::vector<float>(10), {10});
  out = run_prune(tmp / "m.onnx -o " + tmp / "o3 --calib " + tmp / "wrong.npy", &status);
  CHECK(status != 0);
  CHECK(out.find("wrong.npy") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp / "o3"));
  out = run_prune(tmp / "m.onnx -o " + tmp / "o4 --calib " + tmp / "missing", &status);
  CHECK(status != 0);
  CHECK(out.find("missing: cannot open") != std::string::npos);
}

TEST_CASE("a graph the float pass cannot run is pruned uncalibrated and says so",
          "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("lrn", {1, 2, 6, 6}, 5);
  b.conv(b.node("LRN", {b.relu(b.conv(b.input(), 4))}, {1, 4, 6, 6}, "norm"), 3);
  b.write(tmp / "m.onnx");
  int status = 0;
  const std::string out = run_prune(tmp / "m.onnx -o " + tmp / "o", &status);
  INFO(out);
  REQUIRE(status == 0);
  CHECK(out.find("NOT CALIBRATED") != std::string::npos);
  CHECK(out.find("node 'norm' (LRN)") != std::string::npos);
  const nlohmann::json r = read_json(tmp / "o/report.json");
  CHECK(r["calibration"]["status"] == "failed");
  CHECK(r["calibration"]["reason"].get<std::string>().find("LRN") != std::string::npos);
  const std::string off = run_prune(tmp / "m.onnx -o " + tmp / "o2 --calib-samples 0", &status);
  CHECK(off.find("calibration: off") != std::string::npos);
  CHECK(read_json(tmp / "o2/report.json")["calibration"]["status"] == "off");
}

TEST_CASE("a batch above 1 is pinned to 1 with a note", "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("b2", {2, 3, 7, 5}, 5);
  b.conv(b.relu(b.conv(b.input(), 4)), 3);
  b.write(tmp / "m.onnx");
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "m.onnx");
  CHECK(m.input_shape() == std::vector<std::int64_t>{1, 3, 7, 5});
  REQUIRE(m.notes().size() == 1);
  CHECK(m.notes()[0].find("declares batch 2; pinned to 1") != std::string::npos);
  CHECK(m.calibrate(weights_of(m), 1, 1).size() == 2);
  int status = 0;
  const std::string out = run_prune(tmp / "m.onnx -o " + tmp / "o", &status);
  CHECK(status == 0);
  CHECK(out.find("note: graph input 'input' declares batch 2; pinned to 1") != std::string::npos);
  CHECK(read_json(tmp / "o/report.json")["notes"].size() == 1);
}

TEST_CASE("conv flavours the accelerator does not run are named", "[onnx][exporters]") {
  TempDir tmp;
  pcnn::ModelBuilder b("tconv", {1, 2, 4, 4}, 5);
  const std::string w = b.constant("up.weight", {2, 3, 2, 2}, std::vector<float>(24, 0.5f));
  b.node("ConvTranspose", {b.input(), w}, {1, 3, 5, 5}, "up");
  b.write(tmp / "m.onnx");
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "m.onnx");
  CHECK(m.unsupported_convs() == std::vector<std::string>{"ConvTranspose 'up'"});
  CHECK_THROWS_WITH(
      pcnn::prune_model(m, {}),
      Catch::Contains(
          "no Conv node (it has ConvTranspose 'up', which the accelerator does not run)"));
}
