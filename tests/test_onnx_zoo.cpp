// The model zoo: counts read back from the built graphs, checker acceptance,
// determinism and the seeded initialisation.
#include <catch2/catch.hpp>

#include <cmath>

#include "onnx/checker.h"
#include "onnx_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"

namespace {

// Conv weights and dense MACs of a list of (C, M, k, out_h) layers, counted here
// independently of the builder and the loader.
struct Layer {
  std::int64_t c, m, k, out;
};
std::pair<std::int64_t, std::int64_t> count(const std::vector<Layer>& layers) {
  std::int64_t params = 0, macs = 0;
  for (const auto& l : layers) {
    params += l.c * l.m * l.k * l.k;
    macs += l.c * l.m * l.k * l.k * l.out * l.out;
  }
  return {params, macs};
}

std::vector<Layer> vgg16_layers(std::int64_t size) {
  std::vector<Layer> v;
  const std::int64_t widths[5] = {64, 128, 256, 512, 512};
  const int depth[5] = {2, 2, 3, 3, 3};
  std::int64_t c = 3;
  for (int b = 0; b < 5; ++b) {
    for (int i = 0; i < depth[b]; ++i) {
      v.push_back({c, widths[b], 3, size});
      c = widths[b];
    }
    size /= 2;
  }
  return v;
}

std::vector<Layer> resnet18_layers(bool imagenet) {
  std::vector<Layer> v;
  std::int64_t size = imagenet ? 56 : 32;
  v.push_back(imagenet ? Layer{3, 64, 7, 112} : Layer{3, 64, 3, 32});
  std::int64_t c = 64;
  const std::int64_t widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    for (int i = 0; i < 2; ++i) {
      const bool down = s > 0 && i == 0;
      if (down) size /= 2;
      v.push_back({c, widths[s], 3, size});
      v.push_back({widths[s], widths[s], 3, size});
      if (down) v.push_back({c, widths[s], 1, size});
      c = widths[s];
    }
  }
  return v;
}

std::string three_digits(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

}  // namespace

TEST_CASE("zoo summaries match independently counted layer tables", "[onnx]") {
  struct Expect {
    const char* name;
    std::vector<Layer> layers;
  };
  const Expect cases[] = {{"vgg16-cifar", vgg16_layers(32)},
                          {"vgg16-imagenet", vgg16_layers(224)},
                          {"vgg16-imagenet-full", vgg16_layers(224)},
                          {"resnet18-cifar", resnet18_layers(false)},
                          {"resnet18-imagenet", resnet18_layers(true)}};
  for (const auto& c : cases) {
    INFO(c.name);
    const auto s = pcnn::build_zoo_model(c.name).summary();
    const auto [params, macs] = count(c.layers);
    CHECK(s.conv_layers == static_cast<int>(c.layers.size()));
    CHECK(s.conv_params == params);
    CHECK(s.conv_macs == macs);
  }
  // The paper's Tables I and II, three significant digits.
  const auto vgg = pcnn::build_zoo_model("vgg16-cifar").summary();
  CHECK(three_digits(static_cast<double>(vgg.conv_params)) == "1.47e+07");
  CHECK(three_digits(static_cast<double>(vgg.conv_macs)) == "3.13e+08");
  const auto res = pcnn::build_zoo_model("resnet18-cifar").summary();
  CHECK(three_digits(static_cast<double>(res.conv_params)) == "1.12e+07");
  CHECK(three_digits(static_cast<double>(res.conv_macs)) == "5.55e+08");
  // The full VGG-16 classifier: 25088*4096 + 4096*4096 + 4096*1000 weights plus biases.
  const auto full = pcnn::build_zoo_model("vgg16-imagenet-full").summary();
  const std::int64_t fc = 25088LL * 4096 + 4096 + 4096LL * 4096 + 4096 + 4096LL * 1000 + 1000;
  std::int64_t conv_bias_bn = 0;
  for (const auto& l : vgg16_layers(224)) conv_bias_bn += 5 * l.m;  // bias + 4 BN vectors
  CHECK(full.params == count(vgg16_layers(224)).first + conv_bias_bn + fc);
  // The default ImageNet VGG-16 keeps a 512x1000 classifier only.
  const auto compact = pcnn::build_zoo_model("vgg16-imagenet").summary();
  CHECK(compact.params == count(vgg16_layers(224)).first + conv_bias_bn + 512 * 1000 + 1000);
}

TEST_CASE("zoo CIFAR models pass the ONNX checker and load with their geometry", "[onnx]") {
  pcnn_test::ScratchDir dir;
  for (const char* name : {"vgg16-cifar", "resnet18-cifar"}) {
    INFO(name);
    const std::string path = dir.file(std::string(name) + ".onnx");
    pcnn::build_zoo_model(name, 7).write(path);
    REQUIRE_NOTHROW(onnx::checker::check_model(path));
    onnx::ModelProto proto = pcnn_test::read_proto(path);
    CHECK(proto.ir_version() == 8);
    REQUIRE(proto.opset_import_size() == 1);
    CHECK(proto.opset_import(0).version() == 13);

    const auto model = pcnn::OnnxModel::load(path);
    CHECK(model.graph_name() == name);
    CHECK(model.input_shape() == std::vector<std::int64_t>{1, 3, 32, 32});
    const bool vgg = std::string(name) == "vgg16-cifar";
    const auto layers = vgg ? vgg16_layers(32) : resnet18_layers(false);
    REQUIRE(model.convs().size() == layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const auto& c = model.convs()[i];
      INFO(c.name);
      CHECK(c.index == static_cast<int>(i));
      CHECK(c.geom.in_channels == layers[i].c);
      CHECK(c.geom.out_channels == layers[i].m);
      CHECK(c.geom.kernel_h == layers[i].k);
      CHECK(c.geom.out_h() == layers[i].out);
      CHECK(c.geom.out_w() == layers[i].out);
      CHECK(c.geom.group == 1);
      CHECK(c.has_batchnorm);
      // Every VGG conv and a ResNet block's first conv is followed by ReLU; a
      // block's second conv and its shortcut feed the residual Add.
      const bool block_tail = c.name.find(".conv2") != std::string::npos ||
                              c.name.find("downsample") != std::string::npos;
      CHECK(c.relu_follows == (vgg || !block_tail));
      CHECK(static_cast<std::int64_t>(c.weights.size()) == c.geom.weight_count());
    }
  }
}

TEST_CASE("zoo writes byte-identical files per seed and He-initialised weights", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const auto model = pcnn::build_zoo_model("resnet18-cifar", 3);
  model.write(dir.file("a.onnx"));
  pcnn::build_zoo_model("resnet18-cifar", 3).write(dir.file("b.onnx"));
  pcnn::build_zoo_model("resnet18-cifar", 4).write(dir.file("c.onnx"));
  const auto a = pcnn_test::read_bytes(dir.file("a.onnx"));
  CHECK(a == pcnn_test::read_bytes(dir.file("b.onnx")));
  CHECK(a != pcnn_test::read_bytes(dir.file("c.onnx")));

  const auto loaded = pcnn::OnnxModel::load(dir.file("a.onnx"));
  for (const auto& c : loaded.convs()) {
    INFO(c.name);
    double sum = 0, sq = 0;
    for (float w : c.weights) {
      sum += w;
      sq += static_cast<double>(w) * w;
    }
    const double n = static_cast<double>(c.weights.size());
    const double fan_in = c.geom.in_channels * c.geom.kernel_size();
    const double var = sq / n - (sum / n) * (sum / n);
    // Sample variance of n normal draws is within a few sigma (sqrt(2/n)) of 2/fan_in.
    CHECK(std::abs(var / (2.0 / fan_in) - 1.0) < 6.0 * std::sqrt(2.0 / n) + 1e-3);
    CHECK(std::abs(sum / n) < 6.0 * std::sqrt(2.0 / fan_in / n));
    // BN statistics are seeded, not identity.
    bool non_trivial = false;
    for (std::size_t m = 0; m < c.bn_scale.size(); ++m)
      non_trivial =
          non_trivial || std::abs(c.bn_scale[m] - 1.0f) > 1e-3f || std::abs(c.bn_shift[m]) > 1e-3f;
    CHECK(non_trivial);
  }
}

TEST_CASE("unknown zoo model names are rejected", "[onnx]") {
  CHECK_THROWS_WITH(pcnn::build_zoo_model("vgg19"), Catch::Contains("vgg19: unknown model"));
}
