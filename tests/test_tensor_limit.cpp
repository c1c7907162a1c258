// One tensor size limit for the pruner and the simulator (pcnn/core/tensor_limit.hpp):
// every entry point that allocates from a shape refuses a tensor over the limit
// up front, in one line naming the file or option and the tensor.
#include <catch2/catch.hpp>

#include <png.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "pcnn/core/error.hpp"
#include "pcnn/core/failure_context.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/sim/tensor_file.hpp"
#include "one_layer_images.hpp"
#include "prune_test_support.hpp"
#include "small_address_space.hpp"

namespace {

using pcnn_test::built_with_address_sanitizer;
using pcnn_test::run_in_small_address_space;
using pcnn_test::run_program;
using pcnn_test::RunResult;
using pcnn_test::TempDir;

// Sets PCNN_MAX_TENSOR_VALUES for the scope (unset: the default limit).
class LimitScope {
 public:
  explicit LimitScope(const char* value) {
    if (value)
      ::setenv(pcnn::kMaxTensorValuesVariable, value, 1);
    else
      ::unsetenv(pcnn::kMaxTensorValuesVariable);
  }
  ~LimitScope() { ::unsetenv(pcnn::kMaxTensorValuesVariable); }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "accepted";
}

std::string over(const std::string& subject, const std::string& values, const std::string& limit) {
  return subject + " holds " + values + " values, more than the limit of " + limit +
         " values per tensor (PCNN_MAX_TENSOR_VALUES raises it)";
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string le32(std::uint32_t v) {
  std::string b;
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return b;
}

std::string be32(std::uint32_t v) {
  std::string b;
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return b;
}

// A 2x2 grey PNG whose header then claims width x height (CRC recomputed):
// the file is a few dozen bytes, the image it announces is not.
void write_png_claiming(const std::string& path, std::uint32_t width, std::uint32_t height) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = png.height = 2;
  png.format = PNG_FORMAT_GRAY;
  const unsigned char pixels[4] = {0, 64, 128, 255};
  REQUIRE(png_image_write_to_file(&png, path.c_str(), 0, pixels, 0, nullptr));
  std::ifstream in(path, std::ios::binary);
  std::string b((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(b.compare(12, 4, "IHDR") == 0);
  b.replace(16, 8, be32(width) + be32(height));
  const auto crc =
      static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(b.data() + 12), 4 + 13));
  b.replace(29, 4, be32(crc));
  write_bytes(path, b);
}

// A fully convolutional model of any input size: 3 -> 16 channels.
std::string write_fcn(const TempDir& tmp) {
  pcnn::ModelBuilder b("fcn", {1, 3, 8, 8}, 5);
  b.relu(b.conv(b.input(), 16), "act");
  b.free_input_size();
  b.write(tmp / "fcn.onnx");
  return tmp / "fcn.onnx";
}

}  // namespace

TEST_CASE("the tensor limit: default, environment override, saturating counts", "[core][bounded]") {
  {
    LimitScope unset(nullptr);
    CHECK(pcnn::max_tensor_values() == (std::int64_t{1} << 26));
    CHECK_NOTHROW(pcnn::check_tensor_shape("w", "t", {1, 64, 1024, 1024}));
    CHECK(error_of([] {
            pcnn::check_tensor_shape("w", "t", {1, 65, 1024, 1024});
          }) == "w: " + over("t [1,65,1024,1024]", "68157440", "67108864"));
  }
  CHECK(pcnn::tensor_values({1, 3, 224, 224}) == 150528);
  CHECK(pcnn::tensor_values({-1, 3}) == 0);
  CHECK(pcnn::tensor_values({1 << 30, 1 << 30, 1 << 30}) ==
        std::numeric_limits<std::int64_t>::max());
  {
    LimitScope low("1000");
    CHECK(pcnn::max_tensor_values() == 1000);
    CHECK(error_of([] {
            pcnn::check_tensor_shape("w", "t", {1 << 30, 1 << 30, 1 << 30});
          }) == "w: " + over("t [1073741824,1073741824,1073741824]", "more than 2^63", "1000"));
  }
  for (const char* bad : {"0", "-5", "12abc", "1e6", "1099511627777", "99999999999999999999"}) {
    LimitScope s(bad);
    CHECK(error_of([] { pcnn::max_tensor_values(); }) ==
          std::string("PCNN_MAX_TENSOR_VALUES: '") + bad +
              "' is not a number of values in 1..1099511627776");
  }
}

TEST_CASE("pcnn-prune refuses an input shape over the tensor limit at once", "[prune][bounded]") {
  TempDir tmp;
  const std::string model = write_fcn(tmp);
  // The case: a tiny model calibrated at 20000x20000 (4.8 GB of input alone).
  RunResult r = run_in_small_address_space(
      tmp, "pcnn-prune", "'" + model + "' -o '" + tmp / "out" + "' --input-shape 1x3x20000x20000");
  CHECK(r.status == 2);
  CHECK(r.err ==
        "pcnn-prune: " + over("--input-shape: '1x3x20000x20000'", "1200000000", "67108864") + "\n");
  // An input within the limit whose conv output is not: named by node and tensor.
  r = run_in_small_address_space(
      tmp, "pcnn-prune", "'" + model + "' -o '" + tmp / "out" + "' --input-shape 1x3x3000x3000");
  CHECK(r.status == 1);
  CHECK(r.err.rfind("pcnn-prune: " + model + ": node '", 0) == 0);
  CHECK(r.err.find("[1,16,3000,3000] holds 144000000 values, more than the limit") !=
        std::string::npos);
  CHECK(!std::filesystem::exists(tmp / "out"));
  // The same model and shape with a raised limit gets past the check (and
  // would calibrate; only loading is run here).
  LimitScope high("200000000");
  pcnn::LoadOptions opt;
  opt.input_shape = {1, 3, 3000, 3000};
  CHECK(pcnn::OnnxModel::load(model, opt).convs()[0].geom.in_h == 3000);
}

TEST_CASE("the ONNX loader checks the declared input and every inferred tensor",
          "[onnx][bounded]") {
  TempDir tmp;
  {
    pcnn::ModelBuilder b("big", {1, 3, 9000, 9000}, 5);
    b.relu(b.conv(b.input(), 4));
    b.write(tmp / "big.onnx");
  }
  CHECK(error_of([&] { pcnn::OnnxModel::load(tmp / "big.onnx"); }) ==
        tmp / "big.onnx: " + over("graph input 'input' [1,3,9000,9000]", "243000000", "67108864"));

  const std::string model = write_fcn(tmp);
  LimitScope low("1000");
  pcnn::LoadOptions opt;
  opt.input_shape = {1, 3, 10, 10};  // 300 values in, 1600 out of the conv
  const std::string e = error_of([&] { pcnn::OnnxModel::load(model, opt); });
  CHECK(e.find(model + ": node '") == 0);
  CHECK(e.find("[1,16,10,10] holds 1600 values, more than the limit of 1000") != std::string::npos);
  opt.input_shape = {1, 3, 5, 5};  // 400 values out
  CHECK_NOTHROW(pcnn::OnnxModel::load(model, opt));
}

TEST_CASE("the float interpreter checks an output whose shape was not known at load",
          "[onnx][bounded]") {
  TempDir tmp;
  // Without a conv there is no shape inference at load: the Resize output's
  // size is found when it is computed.
  pcnn::ModelBuilder b("up", {1, 2, 8, 8}, 5);
  b.resize_nearest(b.input(), 4, "asymmetric", "floor", "grow");
  b.write(tmp / "up.onnx");
  const pcnn::OnnxModel m = pcnn::OnnxModel::load(tmp / "up.onnx");
  const std::vector<float> x(128, 0.5f);
  CHECK(m.run({}, x).size() == 2048);
  LimitScope low("1000");
  CHECK(error_of([&] { m.run({}, x); }) ==
        tmp / "up.onnx: " + over("node 'grow' (Resize): output [1,2,32,32]", "2048", "1000"));
}

TEST_CASE("the int8 network description checks every tensor against the limit",
          "[network][bounded]") {
  pcnn::Int8Network net;
  net.tensors.push_back({"x", {1, 3, 100, 100}, 1.0f, false});
  LimitScope low("1000");
  CHECK(error_of([&] { net.validate({}, "net/network.json"); }) ==
        "net/network.json: " + over("tensor 'x' [1,3,100,100]", "30000", "1000"));
}

TEST_CASE("image sets, tensor files and network inputs are checked before they are read",
          "[sim][network][bounded]") {
  TempDir tmp;
  // An image set: checked against a lowered limit through pcnn-sim itself
  // (the environment reaches the simulator like a sweep's children).
  pcnn_test::write_one_layer_images(tmp / "images", 8, 16, 16, 3);
  RunResult r = run_program(tmp, "pcnn-sim", "run '" + tmp / "images" + "' --no-dense");
  CHECK(r.status == 0);
  r = run_in_small_address_space(tmp, "pcnn-sim", "run '" + tmp / "images" + "' --no-dense",
                                 "PCNN_MAX_TENSOR_VALUES=3000");
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-sim: " + tmp / "images/manifest.json: " +
                     over("layers[0].geometry: output [1,16,16,16]", "4096", "3000") + "\n");

  // A PCNT tensor file announcing 20000x20000 in a 20-byte file.
  write_bytes(tmp / "big.pcnt",
              std::string("PCNT") + le32(1) + le32(3) + le32(20000) + le32(20000));
  r = run_in_small_address_space(
      tmp, "pcnn-sim",
      "run '" + tmp / "images" + "' --layer convA --input '" + tmp / "big.pcnt" + "'");
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-sim: " + tmp / "big.pcnt: " +
                     over("tensor [3,20000,20000]", "1200000000", "67108864") + "\n");

  // .npy, PGM and PNG inputs announcing more than the limit.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 20000, 20000), }";
  dict.append(63 - (10 + dict.size()) % 64, ' ');
  dict += '\n';
  write_bytes(tmp / "big.npy", std::string("\x93NUMPY\x01\x00", 8) +
                                   static_cast<char>(dict.size() & 0xff) +
                                   static_cast<char>(dict.size() >> 8) + dict);
  CHECK(error_of([&] { pcnn::read_npy(tmp / "big.npy"); }) ==
        tmp / "big.npy: " + over("array of shape (1, 3, 20000, 20000)", "1200000000", "67108864"));
  write_bytes(tmp / "big.pgm", "P5 60000 60000 255\n");
  CHECK(error_of([&] {
          pcnn::read_network_input(tmp / "big.pgm", {1, 1, 60000, 60000});
        }) == tmp / "big.pgm: " + over("image (HxWxC) [60000,60000,1]", "3600000000", "67108864"));
  write_png_claiming(tmp / "big.png", 60000, 60000);
  CHECK(error_of([&] {
          pcnn::read_network_input(tmp / "big.png", {1, 3, 60000, 60000});
        }) == tmp / "big.png: " + over("image (HxWxC) [60000,60000,3]", "10800000000", "67108864"));
  // The calibration data of pcnn-prune reaches the same readers.
  const std::string model = write_fcn(tmp);
  r = run_in_small_address_space(tmp, "pcnn-prune",
                                 "'" + model + "' -o '" + tmp / "out" +
                                     "' --input-shape 1x3x8x8 --calib '" + tmp / "big.npy" + "'");
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-prune: " + tmp / "big.npy: " +
                     over("array of shape (1, 3, 20000, 20000)", "1200000000", "67108864") + "\n");
  // Within the limit the readers still work.
  write_png_claiming(tmp / "small.png", 2, 2);
  CHECK(pcnn::read_network_input(tmp / "small.png", {1, 1, 2, 2}).size() == 4);
}

TEST_CASE("failures without a file of their own are named by the file being worked on",
          "[core][bounded]") {
  using pcnn::on_behalf_of;
  CHECK(on_behalf_of("x", "adding", [] { return 1 + 1; }) == 2);
  CHECK(error_of([] {
          on_behalf_of("big.npy", "reading", []() -> int { throw std::bad_alloc(); });
        }) == "big.npy: out of memory while reading");
  CHECK(error_of([] {
          on_behalf_of("--calib", "reading", [] { std::vector<int>().at(3); });
        }).rfind("--calib: internal error while reading: ", 0) == 0);
  CHECK(error_of([] {
          on_behalf_of("outer", "reading", [] { throw pcnn::Error("inner.npy", "bad magic"); });
        }) == "inner.npy: bad magic");

  if (built_with_address_sanitizer()) return;  // no address-space limit to run out of
  TempDir tmp;
  const std::string model = write_fcn(tmp);
  // Calibration data within the tensor limit but beyond the 512 MiB address
  // space: a uint8 batch of 66 million values (265 MB as float).
  std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3, 4700, 4700), }";
  dict.append(63 - (10 + dict.size()) % 64, ' ');
  dict += '\n';
  {
    std::ofstream out(tmp / "large.npy", std::ios::binary);
    out << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(dict.size() & 0xff)
        << static_cast<char>(dict.size() >> 8) << dict;
    out.seekp(static_cast<std::streamoff>(3LL * 4700 * 4700 - 1), std::ios::cur);
    out.put('\0');
  }
  RunResult r =
      run_in_small_address_space(tmp, "pcnn-prune",
                                 "'" + model + "' -o '" + tmp / "out" +
                                     "' --input-shape 1x3x8x8 --calib '" + tmp / "large.npy" + "'",
                                 "", "ulimit -v 262144; ");
  CHECK(r.status == 1);
  CHECK(r.err ==
        "pcnn-prune: " + tmp / "large.npy: out of memory while reading the calibration data\n");
  // Out of memory in the float pass, outside any reader: the model is named.
  r = run_in_small_address_space(
      tmp, "pcnn-prune", "'" + model + "' -o '" + tmp / "out" + "' --input-shape 1x3x2000x2000", "",
      "ulimit -v 262144; ");
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-prune: " + model + ": out of memory\n");
  CHECK(!std::filesystem::exists(tmp / "out"));
}
