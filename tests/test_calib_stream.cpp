// pcnn-prune --calib DIR reads its inputs one file at a time: a folder larger
// than the memory the program may use calibrates as long as each file fits,
// and the ranges are those of all the inputs held at once.
#include <catch2/catch.hpp>

#include <png.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "prune_test_support.hpp"
#include "small_address_space.hpp"

namespace {

using pcnn_test::TempDir;
using pcnn_test::write_npy;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_png(const std::string& path, int width, int height, bool rgb,
               const std::vector<unsigned char>& pixels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(width);
  png.height = static_cast<png_uint_32>(height);
  png.format = rgb ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  REQUIRE(png_image_write_to_file(&png, path.c_str(), 0, pixels.data(), 0, nullptr));
}

// Deterministic pixel values, different for every file.
unsigned char pixel(int file, std::size_t k) {
  return static_cast<unsigned char>((k * 37 + static_cast<std::size_t>(file) * 101 + k / 7) % 256);
}

void check_same_calibration(const pcnn::Calibration& a, const pcnn::Calibration& b) {
  CHECK(a.samples == b.samples);
  REQUIRE(a.convs.size() == b.convs.size());
  for (std::size_t i = 0; i < a.convs.size(); ++i) {
    CHECK(a.convs[i].input_absmax == b.convs[i].input_absmax);
    CHECK(a.convs[i].output_absmax == b.convs[i].output_absmax);
  }
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, range] : a.tensors) {
    INFO(name);
    REQUIRE(b.tensors.count(name) == 1);
    CHECK(range.absmax == b.tensors.at(name).absmax);
    CHECK(range.min == b.tensors.at(name).min);
    CHECK(range.shape == b.tensors.at(name).shape);
  }
}

}  // namespace

TEST_CASE("a calibration folder read file by file gives the ranges of all its inputs at once",
          "[prune][bounded]") {
  TempDir tmp;
  const std::int64_t C = 3, H = 10, W = 12;  // H != W: a transposed read would not fit
  pcnn::ModelBuilder b("net", {1, C, H, W}, 7);
  b.conv(b.max_pool(b.relu(b.conv(b.input(), 6)), 2, 2), 4);
  b.write(tmp / "m.onnx");
  const pcnn::OnnxModel model = pcnn::OnnxModel::load(tmp / "m.onnx");

  // One input of each kind the folder reader takes, and files it skips.
  const std::string dir = tmp / "calib";
  std::filesystem::create_directories(dir + "/sub.npy");
  const auto values = static_cast<std::size_t>(C * H * W);
  std::vector<float> nchw(values);
  for (std::size_t k = 0; k < values; ++k) nchw[k] = 2.5f * std::sin(0.21f * static_cast<float>(k));
  write_npy(dir + "/a.npy", "<f4", {1, C, H, W}, nchw.data(), values * 4);
  std::vector<unsigned char> hwc(values);
  for (std::size_t k = 0; k < values; ++k) hwc[k] = pixel(1, k);
  write_npy(dir + "/b.npy", "|u1", {H, W, C}, hwc.data(), values);
  std::string ppm = "P6\n" + std::to_string(W) + " " + std::to_string(H) + "\n255\n";
  for (std::size_t k = 0; k < values; ++k) ppm.push_back(static_cast<char>(pixel(2, k)));
  write_bytes(dir + "/c.ppm", ppm);
  for (std::size_t k = 0; k < values; ++k) hwc[k] = pixel(3, k);
  write_png(dir + "/d.png", static_cast<int>(W), static_cast<int>(H), true, hwc);
  for (std::size_t k = 0; k < values; ++k) nchw[k] = -1.0f + 0.01f * static_cast<float>(k);
  write_npy(dir + "/e.npy", "<f4", {C, H, W}, nchw.data(), values * 4);
  write_bytes(dir + "/notes.txt", "not an input\n");

  pcnn::PruneOptions opt;
  opt.calib_path = dir;
  const pcnn::PrunedModel streamed = pcnn::prune_model(model, opt);
  REQUIRE(streamed.calibration.status == "data");
  CHECK(streamed.calibration.samples == 5);

  // The inputs all in memory first, in name order, as pcnn-prune read them before.
  std::vector<std::vector<float>> inputs;
  for (const char* name : {"a.npy", "b.npy", "c.ppm", "d.png", "e.npy"})
    inputs.push_back(pcnn::read_network_input(dir + "/" + name, model.input_shape()));
  const pcnn::Calibration all_at_once =
      model.calibrate_with(streamed.pruned_weights, static_cast<int>(inputs.size()),
                           [&](int i, std::vector<float>& x) { x = inputs[i]; });
  check_same_calibration(streamed.calibration.ranges, all_at_once);

  // The same inputs as one .npy batch [N,H,W,C]: the same ranges again.
  std::vector<float> batch;
  for (const auto& x : inputs)
    for (std::int64_t y = 0; y < H; ++y)
      for (std::int64_t xx = 0; xx < W; ++xx)
        for (std::int64_t c = 0; c < C; ++c) batch.push_back(x[(c * H + y) * W + xx]);
  write_npy(tmp / "batch.npy", "<f4", {5, H, W, C}, batch.data(), batch.size() * 4);
  opt.calib_path = tmp / "batch.npy";
  const pcnn::PrunedModel from_batch = pcnn::prune_model(model, opt);
  check_same_calibration(from_batch.calibration.ranges, all_at_once);
  CHECK(from_batch.images.layers[1].output_scale == streamed.images.layers[1].output_scale);

  // A bad file read late in the pass still fails the run naming it (the model
  // is not left uncalibrated).
  write_npy(dir + "/z.npy", "<f4", {4}, nchw.data(), 16);
  opt.calib_path = dir;
  CHECK_THROWS_WITH(pcnn::prune_model(model, opt),
                    dir +
                        "/z.npy: array shape (4) does not fit the model input 1x3x10x12 (NCHW) "
                        "or 10x12x3 (HWC)");
  batch[batch.size() / 2 + 1] = std::nanf("");
  write_npy(tmp / "batch.npy", "<f4", {5, H, W, C}, batch.data(), batch.size() * 4);
  opt.calib_path = tmp / "batch.npy";
  CHECK_THROWS_WITH(pcnn::prune_model(model, opt),
                    tmp / "batch.npy: holds a value that is not finite");
}

TEST_CASE("pcnn-prune calibrates on a folder larger than its address space", "[prune][bounded]") {
  TempDir tmp;
  // 20 grey 2048x2048 PNG files: each 16 MiB as floats, 320 MiB together, run
  // in a 256 MiB address space (the PNG files themselves are small).
  constexpr int kSide = 2048, kFiles = 20;
  constexpr std::int64_t kTotalBytes = std::int64_t{kFiles} * kSide * kSide * 4;
  static_assert(kTotalBytes > std::int64_t{256} << 20, "the folder must not fit");
  pcnn::ModelBuilder b("wide", {1, 1, kSide, kSide}, 3);
  b.relu(b.conv(b.input(), 2));
  b.write(tmp / "m.onnx");
  const std::string dir = tmp / "calib";
  std::filesystem::create_directory(dir);
  std::vector<unsigned char> pixels(static_cast<std::size_t>(kSide) * kSide);
  for (int f = 0; f < kFiles; ++f) {
    for (std::size_t k = 0; k < pixels.size(); ++k)
      pixels[k] = static_cast<unsigned char>((k % kSide + k / kSide + 5 * f) % 200);
    write_png(dir + "/" + std::to_string(100 + f) + ".png", kSide, kSide, false, pixels);
  }
  const pcnn_test::RunResult r = pcnn_test::run_in_small_address_space(
      tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "out" + "' --calib '" + dir + "'",
      "", "ulimit -v 262144; ");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("calibration: 20 input(s), data from " + dir + "\n") != std::string::npos);
  // The input range is the data's: the brightest pixel, 199 / 255.
  const nlohmann::json manifest =
      nlohmann::json::parse(pcnn_test::slurp(tmp / "out/manifest.json"));
  CHECK(manifest["layers"][0]["input_scale"].get<float>() == Approx(199.0 / 255.0 / 127.0));
}
