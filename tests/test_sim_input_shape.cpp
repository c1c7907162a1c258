// --input-shape in pcnn-sim: a fully convolutional model pruned at one input
// size runs at another. The shape flows through network.json to every conv
// layer's geometry, the pools and the resize tables; the simulator computes
// each conv at the new size bit-exactly as the golden network does; and what
// cannot take the new size is refused with its node.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/golden/golden_network.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/network/network_input_shape.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/sim/simulate.hpp"
#include "prune_test_support.hpp"
#include "pruned_classifier.hpp"

using pcnn_test::TempDir;

namespace {

// conv - relu - max pool 2 - conv - relu - resize x2 - conv, input [1,3,H,W] free.
std::string prune_fully_convolutional(const TempDir& tmp) {
  pcnn::ModelBuilder b("fcn", {1, 3, 16, 16}, 5);
  const std::string x = b.relu(b.conv(b.input(), 4, {}, "c1"));
  const std::string y = b.relu(b.conv(b.max_pool(x, 2, 2), 6, {}, "c2"));
  b.conv(b.resize_nearest(y, 2), 5, {}, "c3");
  b.free_input_size();
  b.write(tmp / "fcn.onnx");
  const pcnn_test::Run r =
      pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + tmp / "fcn.onnx -o " +
                             tmp / "img" + " --input-shape 1x3x16x16 --calib-samples 2");
  INFO(r.out);
  REQUIRE(r.status == 0);
  return tmp / "img";
}

}  // namespace

TEST_CASE("a new input size (--input-shape) is carried through every layer", "[network][shape]") {
  TempDir tmp;
  const std::string dir = prune_fully_convolutional(tmp);
  pcnn::ModelImages images = pcnn::read_model_images(dir);
  pcnn::Int8Network net = pcnn::read_int8_network(dir, images.layers);
  REQUIRE(images.layers.size() == 3);
  CHECK(images.layers[0].geom.in_h == 16);

  pcnn::set_network_input_shape(net, images.layers, {1, 3, 24, 32}, "--input-shape");
  const int expect[3][2] = {{24, 32}, {12, 16}, {24, 32}};
  for (int i = 0; i < 3; ++i) {
    INFO("layer " << images.layers[i].name);
    CHECK(images.layers[i].geom.in_h == expect[i][0]);
    CHECK(images.layers[i].geom.in_w == expect[i][1]);
  }
  CHECK(net.tensors[net.output].shape == std::vector<std::int64_t>{1, 5, 24, 32});

  // The golden network at the new size, and each conv simulated at its new
  // geometry on the golden's input to it gives the golden's output.
  const pcnn::GoldenNetwork g(images, net);
  std::vector<std::int8_t> x(3 * 24 * 32);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::int8_t>((i * 29) % 200 - 90);
  std::vector<std::vector<std::int8_t>> conv_in(3), conv_out(3);
  std::vector<std::vector<std::int8_t>> values(net.tensors.size());
  values[net.input] = x;
  const pcnn::GoldenOutput out = g.run(
      x, [&](const pcnn::NetNode& n, const pcnn::NetTensor&, const std::vector<std::int8_t>& v) {
        values[n.output] = v;
        if (n.op == pcnn::Int8Op::conv) {
          conv_in[n.layer] = values[n.inputs[0]];
          conv_out[n.layer] = v;
        }
      });
  CHECK(out.shape == std::vector<std::int64_t>{1, 5, 24, 32});
  std::vector<pcnn::LayerJob> jobs;
  for (int i = 0; i < 3; ++i) {
    pcnn::LayerJob job;
    job.layer = images.layers[i];
    job.input = conv_in[i];
    job.files = images.files;  // the pruner's bytes, at the new sizes
    jobs.push_back(job);
  }
  const pcnn::ArchConfig arch;
  const pcnn::SimOptions options;
  const auto results = pcnn::simulate_in_child(jobs, arch, options);
  for (int i = 0; i < 3; ++i) CHECK(results[i].output == conv_out[i]);

  // Nothing changes when a size cannot be taken: too small for the windows.
  const pcnn::Int8Network before = net;
  CHECK_THROWS_WITH(
      pcnn::set_network_input_shape(net, images.layers, {1, 3, 1, 1}, "--input-shape"),
      Catch::Contains("--input-shape: at input shape 1x3x1x1, node '"));
  CHECK(net.tensors[net.output].shape == before.tensors[before.output].shape);
  CHECK(images.layers[1].geom.in_h == 12);
  CHECK_THROWS_WITH(
      pcnn::set_network_input_shape(net, images.layers, {1, 4, 16, 16}, "--input-shape"),
      Catch::Contains("needs the 3 channels"));
}

TEST_CASE("pcnn-sim run and golden take --input-shape", "[network][shape]") {
  TempDir tmp;
  const std::string dir = prune_fully_convolutional(tmp);
  const pcnn_test::Run r =
      pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " run " + dir +
                             " --input-shape 1x3x20x12 --no-dense --json " + tmp / "r.json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(pcnn_test::slurp(tmp / "r.json"));
  CHECK(j["input_shape"] == nlohmann::json::array({1, 3, 20, 12}));
  CHECK(j["layers"][1]["geometry"]["in_h"] == 10);
  CHECK(j["layers"][1]["geometry"]["in_w"] == 6);
  CHECK(j["layers"][2]["geometry"]["in_h"] == 20);

  std::ofstream(tmp / "x.ppm", std::ios::binary) << "P6\n12 20\n255\n"
                                                 << std::string(12 * 20 * 3, '\x50');
  const pcnn_test::Run g =
      pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " golden " + dir + " --input " +
                             tmp / "x.ppm" + " --input-shape 1x3x20x12");
  INFO(g.out);
  CHECK(g.status == 0);
  CHECK(g.out.find("output 1x5x20x12") != std::string::npos);

  // Bad cases: one line naming the option, non-zero exit.
  for (const std::string& bad : {std::string("1x3x20"), std::string("2x3x8x8"),
                                 std::string("1x3xAx8"), std::string("1x3x1x1")}) {
    const pcnn_test::Run b = pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " run " + dir +
                                                    " --no-dense --input-shape " + bad);
    INFO(bad << ": " << b.out);
    CHECK(b.status != 0);
    CHECK(b.out.find("pcnn-sim: --input-shape: ") == 0);
    CHECK(std::count(b.out.begin(), b.out.end(), '\n') == 1);
  }
  // Without network.json there is no way to carry the shape.
  std::filesystem::remove(dir + "/network.json");
  std::filesystem::remove(dir + "/network.bin");
  const pcnn_test::Run none = pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " run " + dir +
                                                     " --no-dense --input-shape 1x3x8x8");
  CHECK(none.status != 0);
  CHECK(none.out.find("has no network.json") != std::string::npos);
}

TEST_CASE("a new input size (--input-shape) is refused when a Gemm would change size", "[network][shape]") {
  TempDir tmp;
  pcnn_test::prune_small_classifier(tmp);
  pcnn::ModelImages images = pcnn::read_model_images(tmp / "img");
  pcnn::Int8Network net = pcnn::read_int8_network(tmp / "img", images.layers);
  CHECK_THROWS_WITH(
      pcnn::set_network_input_shape(net, images.layers, {1, 3, 16, 16}, "--input-shape"),
      Catch::Contains("node 'fc' (gemm) takes 256 values and would get 1024"));
}

TEST_CASE("pcnn-sim run --network takes --input-shape, bit-exact against golden at two sizes",
          "[network][shape][network_run]") {
  TempDir tmp;
  const std::string dir = prune_fully_convolutional(tmp);
  auto sim = [](const std::string& args) {
    return pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " " + args);
  };
  for (const auto& [h, w] : {std::pair<int, int>{20, 12}, std::pair<int, int>{24, 32}}) {
    const std::string shape = "1x3x" + std::to_string(h) + "x" + std::to_string(w);
    INFO("input shape " << shape);
    const std::string in = tmp / (shape + ".ppm"), at = tmp / shape;
    std::string pixels(static_cast<std::size_t>(h * w * 3), '\0');
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>((i * 37) % 251);
    std::ofstream(in, std::ios::binary) << "P6\n" << w << " " << h << "\n255\n" << pixels;
    std::filesystem::create_directory(at);
    const pcnn_test::Run g = sim("golden " + dir + " --input " + in + " --input-shape " + shape +
                                 " --output " + at + "/g.npy --dump-layers " + at + "/glayers");
    INFO(g.out);
    REQUIRE(g.status == 0);
    const pcnn_test::Run r = sim("run " + dir + " --network --input " + in + " --input-shape " +
                                 shape + " --act-mode skip --output " + at +
                                 "/y.npy --dump-layers " + at + "/layers --json " + at + "/r.json");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("output 1x5x" + std::to_string(h) + "x" + std::to_string(w)) !=
          std::string::npos);
    CHECK(pcnn_test::slurp(at + "/y.npy") == pcnn_test::slurp(at + "/g.npy"));
    CHECK(pcnn_test::slurp(at + "/y.npy.json") == pcnn_test::slurp(at + "/g.npy.json"));
    const std::vector<std::string> files = pcnn_test::listing(at + "/layers");
    REQUIRE(files == pcnn_test::listing(at + "/glayers"));
    for (const std::string& f : files)
      CHECK(pcnn_test::slurp(at + "/layers/" + f) == pcnn_test::slurp(at + "/glayers/" + f));
    const nlohmann::json j = nlohmann::json::parse(pcnn_test::slurp(at + "/r.json"));
    CHECK(j.at("input_shape") == nlohmann::json::array({1, 3, h, w}));
    // The convs ran at the new size: c1 at HxW, c2 behind the pool at H/2 x W/2.
    std::int64_t macs = 0;
    for (const nlohmann::json& s : j.at("steps"))
      if (s.at("op") == "conv") macs += s.at("stats").at("dense_macs").get<std::int64_t>();
    CHECK(macs == 9LL * (3 * 4 * h * w + 4 * 6 * (h / 2) * (w / 2) + 6 * 5 * h * w));
  }

  // Bad shapes and an input of another size: one line naming the option or the
  // file, non-zero exit, nothing written.
  std::ofstream(tmp / "x.ppm", std::ios::binary) << "P6\n12 20\n255\n"
                                                 << std::string(12 * 20 * 3, '\x50');
  const std::string out = tmp / "z.npy";
  for (const std::string& bad : {std::string("1x3x20"), std::string("2x3x8x8"),
                                 std::string("1x4x20x12"), std::string("1x3x1x1")}) {
    const pcnn_test::Run b = sim("run " + dir + " --network --input " + tmp / "x.ppm" +
                                 " --input-shape " + bad + " --output " + out);
    INFO(bad << ": " << b.out);
    CHECK(b.status != 0);
    CHECK(b.out.find("pcnn-sim: --input-shape: ") == 0);
    CHECK(std::count(b.out.begin(), b.out.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  }
  const pcnn_test::Run size = sim("run " + dir + " --network --input " + tmp / "x.ppm" +
                                  " --input-shape 1x3x24x32 --output " + out);
  INFO(size.out);
  CHECK(size.status != 0);
  CHECK(size.out.find("x.ppm") != std::string::npos);
  CHECK(std::count(size.out.begin(), size.out.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(out));
}
