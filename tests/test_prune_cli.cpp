// pcnn-prune as a program: normal runs, determinism and every bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "onnx_test_models.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

std::string prune_cmd(const std::string& args) {
  return pcnn_test::binary("pcnn-prune") + " " + args;
}

// Runs pcnn-prune with arguments that must fail: non-zero exit, exactly one
// line "pcnn-prune: <expected>..." and the directory listing unchanged (no
// output directory, no temporary left behind).
void expect_failure(const TempDir& tmp, const std::string& args, const std::string& expected) {
  const std::vector<std::string> before = pcnn_test::listing(tmp.path());
  const pcnn_test::Run r = pcnn_test::run_command(prune_cmd(args));
  INFO("pcnn-prune " << args << "\n" << r.out);
  CHECK(r.status != 0);
  CHECK(r.status != -1);
  CHECK(r.out.rfind("pcnn-prune: " + expected, 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  CHECK(pcnn_test::listing(tmp.path()) == before);
}

}  // namespace

TEST_CASE("pcnn-prune writes images, pruned model and report", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  const pcnn_test::Run r = pcnn_test::run_command(
      prune_cmd(tmp / "m.onnx" + " -o " + tmp / "out" + " --n 2 --patterns 4"));
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("conv1") != std::string::npos);
  CHECK(r.out.find("time: load") != std::string::npos);
  CHECK(pcnn_test::listing(tmp / "out") ==
        std::vector<std::string>{"manifest.json", "network.bin", "network.json",
                                 "pattern_config.bin", "patterns.bin", "pruned.onnx", "report.json",
                                 "weights.bin"});
  const pcnn::ModelImages img = pcnn::read_model_images(tmp / "out");
  REQUIRE(img.layers.size() == 2);
  CHECK(img.layers[0].n == 2);
  CHECK(img.layers[0].num_patterns() == 4);
  CHECK(img.layers[0].relu);
  CHECK_FALSE(img.layers[1].relu);
  // The pruned model keeps exactly the projected weights: n non-zeros per kernel.
  onnx::ModelProto pruned;
  {
    std::ifstream in(tmp / "out/pruned.onnx", std::ios::binary);
    REQUIRE(pruned.ParseFromIstream(&in));
  }
  CHECK(pruned.graph().node_size() == 3);
  // Reloaded, the pruned model has the original weights at kept positions and
  // 0 elsewhere, exactly n per kernel.
  const pcnn::OnnxModel before = pcnn::OnnxModel::load(tmp / "m.onnx");
  const pcnn::OnnxModel after = pcnn::OnnxModel::load(tmp / "out/pruned.onnx");
  REQUIRE(after.convs().size() == 2);
  for (std::size_t l = 0; l < 2; ++l) {
    const std::vector<float>& w0 = before.convs()[l].weights;
    const std::vector<float>& w1 = after.convs()[l].weights;
    REQUIRE(w0.size() == w1.size());
    const std::vector<std::int8_t> q = img.layers[l].dense_weights();
    for (std::size_t k = 0; k < w0.size() / 9; ++k) {
      int kept = 0;
      for (std::size_t p = 0; p < 9; ++p) {
        const std::size_t i = k * 9 + p;
        const bool in_mask = (img.layers[l].patterns[img.layers[l].kernel_index[k]] >> p) & 1u;
        CHECK(w1[i] == (in_mask ? w0[i] : 0.0f));
        kept += in_mask;
      }
      CHECK(kept == 2);
    }
  }
}

TEST_CASE("pcnn-prune output is byte-identical for the same model and options", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  std::ofstream(tmp / "layers.json") << R"({"layers": [{"name": "conv2", "n": 1, "patterns": 3}]})";
  const std::string opts =
      " --n 3 --patterns 8 --calib-samples 2 --seed 5 --layers " + tmp / "layers.json";
  for (const char* out : {"a", "b"}) {
    const pcnn_test::Run r =
        pcnn_test::run_command(prune_cmd(tmp / "m.onnx" + " -o " + tmp / out + opts));
    INFO(r.out);
    REQUIRE(r.status == 0);
  }
  for (const std::string& f : pcnn_test::listing(tmp / "a"))
    CHECK(pcnn_test::file_bytes(tmp / ("a/" + f)) == pcnn_test::file_bytes(tmp / ("b/" + f)));
  CHECK(pcnn_test::listing(tmp / "a") == pcnn_test::listing(tmp / "b"));

  // The same on a full VGG-16-CIFAR from pcnn-zoo, per-layer int8, with calibration.
  REQUIRE(
      pcnn_test::run_command(pcnn_test::binary("pcnn-zoo") + " vgg16-cifar -o " + tmp / "vgg.onnx")
          .status == 0);
  for (const char* out : {"va", "vb"}) {
    const pcnn_test::Run r = pcnn_test::run_command(
        prune_cmd(tmp / "vgg.onnx" + " -o " + tmp / out +
                  " --n 2 --patterns 16 --quant per-layer --calib-samples 1"));
    INFO(r.out);
    REQUIRE(r.status == 0);
  }
  CHECK(pcnn_test::listing(tmp / "va").size() == 8);  // images, pruned model, report, network
  for (const std::string& f : pcnn_test::listing(tmp / "va"))
    CHECK(pcnn_test::file_bytes(tmp / ("va/" + f)) == pcnn_test::file_bytes(tmp / ("vb/" + f)));
}

TEST_CASE("pcnn-prune rejects bad models with one line and leaves nothing", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "good.onnx");
  const std::vector<std::uint8_t> good = pcnn_test::file_bytes(tmp / "good.onnx");
  {
    std::ofstream out(tmp / "truncated.onnx", std::ios::binary);
    out.write(reinterpret_cast<const char*>(good.data()),
              static_cast<std::streamsize>(good.size() / 2));
  }
  {
    std::mt19937 rng(99);
    std::ofstream out(tmp / "random.onnx", std::ios::binary);
    for (int i = 0; i < 5000; ++i) out.put(static_cast<char>(rng()));
  }
  pcnn_test::save_model(pcnn_test::no_conv_model(), tmp / "noconv.onnx");
  const std::string o = " -o " + tmp / "out";
  expect_failure(tmp, tmp / "truncated.onnx" + o, tmp / "truncated.onnx: ");
  expect_failure(tmp, tmp / "random.onnx" + o, tmp / "random.onnx: ");
  expect_failure(tmp, tmp / "noconv.onnx" + o, tmp / "noconv.onnx: ");
  expect_failure(tmp, tmp / "absent.onnx" + o, tmp / "absent.onnx: ");
}

TEST_CASE("pcnn-prune rejects bad options and layers files", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  const std::string m = tmp / "m.onnx" + " -o " + tmp / "out";
  expect_failure(tmp, m + " --n 0", "--n: 0 is outside 1..9");
  expect_failure(tmp, m + " --n 10", "--n: 10 is outside 1..9");
  expect_failure(tmp, m + " --n 4 --patterns 127", "--patterns: 127 is outside 1..126 = C(9, 4)");
  expect_failure(tmp, m + " --n 1 --patterns 10", "--patterns: 10 is outside 1..9 = C(9, 1)");
  expect_failure(tmp, m + " --patterns 0", "--patterns: 0 is not a positive pattern count");
  expect_failure(tmp, m + " --patterns many",
                 "--patterns: 'many' is neither a pattern count nor 'full'");
  expect_failure(tmp, m + " --quant per-tensor",
                 "--quant: 'per-tensor' is neither per-channel nor per-layer");
  expect_failure(tmp, m + " --bogus", "command line: ");

  std::ofstream(tmp / "missing.json") << R"({"layers": [{"name": "conv9", "n": 2}]})";
  expect_failure(tmp, m + " --layers " + tmp / "missing.json",
                 tmp / "missing.json: layers[0]: no conv layer named 'conv9'");
  std::ofstream(tmp / "index.json") << R"({"layers": [{"index": 2, "n": 2}]})";
  expect_failure(tmp, m + " --layers " + tmp / "index.json",
                 tmp / "index.json: layers[0]: no conv layer with index 2 (the model has 2)");
  std::ofstream(tmp / "unknown.json") << R"({"layers": [{"name": "conv1", "nn": 2}]})";
  expect_failure(tmp, m + " --layers " + tmp / "unknown.json",
                 tmp / "unknown.json: layers[0]: unknown key 'nn'");
  std::ofstream(tmp / "top.json") << R"({"layer": []})";
  expect_failure(tmp, m + " --layers " + tmp / "top.json", tmp / "top.json: unknown key 'layer'");
  std::ofstream(tmp / "type.json") << R"({"layers": [{"name": "conv1", "n": "two"}]})";
  expect_failure(tmp, m + " --layers " + tmp / "type.json",
                 tmp / "type.json: layers[0].n: expected an integer, got \"two\"");
  std::ofstream(tmp / "range.json") << R"({"layers": [{"index": 0, "n": 2, "patterns": 40}]})";
  expect_failure(tmp, m + " --layers " + tmp / "range.json",
                 tmp / "range.json: layers[0].patterns: 40 is outside 1..36 = C(9, 2)");
  std::ofstream(tmp / "broken.json") << R"({"layers": [)";
  expect_failure(tmp, m + " --layers " + tmp / "broken.json", tmp / "broken.json: not valid JSON");
}

TEST_CASE("pcnn-prune rejects an output directory that cannot be written", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  std::ofstream(tmp / "plain_file") << "x";
  expect_failure(tmp, tmp / "m.onnx" + " -o " + tmp / "plain_file/out",
                 tmp / "plain_file/out: cannot create the output directory in the folder '" +
                     tmp / "plain_file': Not a directory");
  // Missing parent folders are not created; the message names the missing one.
  expect_failure(tmp, tmp / "m.onnx" + " -o " + tmp / "absent/out",
                 tmp / "absent/out: cannot create the output directory in the folder '" +
                     tmp / "absent': No such file or directory");
  CHECK_FALSE(std::filesystem::exists(tmp / "absent"));
  std::filesystem::create_directory(tmp / "foreign");
  std::ofstream(tmp / "foreign/data.txt") << "x";
  expect_failure(
      tmp, tmp / "m.onnx" + " -o " + tmp / "foreign",
      tmp /
          "foreign: exists, is not empty and holds no manifest.json file; refusing to replace it");
}
