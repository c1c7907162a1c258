// The float interpreter against hand-computed and independently computed
// results, and the calibration pass.
#include <catch2/catch.hpp>

#include <cmath>

#include "onnx_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "src/onnx/conv_kernel.hpp"
#include "src/onnx/seeded_random.hpp"

namespace {

std::vector<std::vector<float>> weights_of(const pcnn::OnnxModel& m) {
  std::vector<std::vector<float>> w;
  for (const auto& c : m.convs()) w.push_back(c.weights);
  return w;
}

// Direct-loop convolution, written independently of the im2col kernel.
std::vector<float> naive_conv(const pcnn::ConvGeometry& g, const std::vector<float>& in,
                              const std::vector<float>& w, const std::vector<float>& bias) {
  const int oh = g.out_h(), ow = g.out_w(), cg = g.in_channels_per_group(),
            mg = g.out_channels / g.group;
  std::vector<float> out(static_cast<std::size_t>(g.out_channels) * oh * ow);
  for (int m = 0; m < g.out_channels; ++m)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x) {
        double s = bias.empty() ? 0.0 : bias[m];
        for (int c = 0; c < cg; ++c)
          for (int ky = 0; ky < g.kernel_h; ++ky)
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int iy = y * g.stride_h - g.pad_top + ky * g.dilation_h;
              const int ix = x * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
              const int ci = (m / mg) * cg + c;
              s += static_cast<double>(w[((m * cg + c) * g.kernel_h + ky) * g.kernel_w + kx]) *
                   in[(static_cast<std::size_t>(ci) * g.in_h + iy) * g.in_w + ix];
            }
        out[(static_cast<std::size_t>(m) * oh + y) * ow + x] = static_cast<float>(s);
      }
  return out;
}

}  // namespace

TEST_CASE("forward pass of a tiny conv / relu / pool / gemm net matches the hand computation",
          "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("tiny", {1, 1, 4, 4}, 1);
  // Channel 0: centre tap only (identity) + 0.5; channel 1: 3x3 box sum - 50.
  std::vector<float> w(2 * 9, 0.0f);
  w[4] = 1.0f;
  for (int k = 9; k < 18; ++k) w[k] = 1.0f;
  std::string x = b.conv(b.input(), 2, pcnn::ConvOptions{}, w, {0.5f, -50.0f}, "conv");
  x = b.relu(x, "relu");
  x = b.max_pool(x, 2, 2, 0, "pool");
  x = b.flatten(x, "flat");
  std::vector<float> fc(3 * 8, 0.0f);
  for (int k = 0; k < 8; ++k) fc[k] = 1.0f;
  fc[8 + 0] = 1.0f;
  fc[8 + 7] = -1.0f;
  fc[16 + 6] = 0.5f;
  b.output(b.gemm(x, 3, fc, {0.0f, 1.0f, -2.0f}, "fc"));
  b.write(dir.file("tiny.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("tiny.onnx"));
  std::vector<float> input(16);
  for (int i = 0; i < 16; ++i) input[i] = static_cast<float>(i + 1);
  // Pooled maps: identity+0.5 -> [6.5 8.5; 14.5 16.5]; relu(box-50) -> [4 13; 40 49].
  // fc: sum = 152; 6.5 - 49 + 1 = -41.5; 0.5 * 40 - 2 = 18.
  const auto y = m.run(weights_of(m), input);
  REQUIRE(y.size() == 3);
  CHECK(y[0] == Approx(152.0f));
  CHECK(y[1] == Approx(-41.5f));
  CHECK(y[2] == Approx(18.0f));
}

TEST_CASE("average pooling, global pooling, residual add and softmax", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const std::vector<float> nine = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  {
    // Average 2x2, stride 1, pad 1; padding is not counted (count_include_pad 0).
    pcnn::ModelBuilder b("avg", {1, 1, 3, 3}, 1);
    b.output(b.average_pool(b.input(), 2, 1, 1, "avg"));
    b.write(dir.file("avg.onnx"));
    const auto m = pcnn::OnnxModel::load(dir.file("avg.onnx"));
    CHECK(m.convs().empty());
    const std::vector<float> expect = {1,   1.5, 2.5, 3,   2.5, 3,   4,   4.5,
                                       5.5, 6,   7,   7.5, 7,   7.5, 8.5, 9};
    const auto y = m.run({}, nine);
    REQUIRE(y.size() == expect.size());
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(expect[i]));
  }
  {
    pcnn::ModelBuilder b("gap", {1, 1, 3, 3}, 1);
    const std::string g = b.global_average_pool(b.input(), "gap");
    b.output(b.add(g, b.node("Identity", {g}, {1, 1, 1, 1}, "id"), "twice"));
    b.write(dir.file("gap.onnx"));
    const auto y = pcnn::OnnxModel::load(dir.file("gap.onnx")).run({}, nine);
    REQUIRE(y.size() == 1);
    CHECK(y[0] == Approx(10.0f));
  }
  {
    pcnn::ModelBuilder b("softmax", {1, 3, 1, 1}, 1);
    b.output(b.softmax(b.flatten(b.input(), "flat"), "sm"));
    b.write(dir.file("sm.onnx"));
    const auto y = pcnn::OnnxModel::load(dir.file("sm.onnx")).run({}, {1.0f, 2.0f, 3.0f});
    const double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
    REQUIRE(y.size() == 3);
    CHECK(y[0] == Approx(std::exp(-2.0) / z));
    CHECK(y[1] == Approx(std::exp(-1.0) / z));
    CHECK(y[2] == Approx(1.0 / z));
  }
}

TEST_CASE("conv kernel matches direct loops for strides, dilations, groups and padding", "[onnx]") {
  struct Case {
    int c, m, h, w, k, stride, pad, dil, group;
  };
  const Case cases[] = {{3, 8, 9, 7, 3, 1, 1, 1, 1},  {4, 6, 10, 10, 3, 2, 1, 1, 2},
                        {5, 7, 9, 9, 3, 1, 2, 2, 1},  {8, 8, 6, 6, 3, 1, 1, 1, 8},
                        {6, 13, 5, 5, 1, 1, 0, 1, 1}, {3, 64, 17, 17, 7, 2, 3, 1, 1},
                        {32, 21, 8, 8, 3, 1, 1, 1, 1}};
  pcnn::onnx_detail::SeededRandom rng(42);
  for (const auto& t : cases) {
    pcnn::ConvGeometry g;
    g.in_channels = t.c;
    g.out_channels = t.m;
    g.in_h = t.h;
    g.in_w = t.w;
    g.kernel_h = g.kernel_w = t.k;
    g.stride_h = g.stride_w = t.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = t.pad;
    g.dilation_h = g.dilation_w = t.dil;
    g.group = t.group;
    std::vector<float> in(static_cast<std::size_t>(g.input_elements())),
        w(static_cast<std::size_t>(g.weight_count())), bias(t.m);
    for (auto& v : in) v = rng.normal();
    for (auto& v : w) v = rng.normal();
    for (auto& v : bias) v = rng.normal();
    std::vector<float> out(static_cast<std::size_t>(g.output_elements()));
    pcnn::onnx_detail::conv2d(g, in.data(), w.data(), bias.data(), out.data());
    const auto ref = naive_conv(g, in, w, bias);
    for (std::size_t i = 0; i < out.size(); ++i)
      REQUIRE(out[i] == Approx(ref[i]).margin(1e-4).epsilon(1e-4));
  }
}

TEST_CASE("calibration records conv input and post-ReLU output ranges, deterministically",
          "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("calib", {1, 2, 6, 6}, 9);
  std::string x = b.conv(b.input(), 4, pcnn::ConvOptions{}, "c");
  x = b.batch_norm(x, "bn");
  b.output(b.relu(x, "r"));
  b.write(dir.file("calib.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("calib.onnx"));
  REQUIRE(m.convs().size() == 1);
  const auto w = weights_of(m);
  const auto r = m.calibrate(w, 1, 77);
  // The same input, drawn here from the documented generator.
  pcnn::onnx_detail::SeededRandom rng(77);
  std::vector<float> input(2 * 6 * 6);
  float in_max = 0.0f;
  for (auto& v : input) {
    v = rng.normal();
    in_max = std::max(in_max, std::abs(v));
  }
  const auto y = m.run(w, input);
  const float out_max = *std::max_element(y.begin(), y.end());
  REQUIRE(r.size() == 1);
  CHECK(r[0].input_absmax == in_max);
  CHECK(r[0].output_absmax == out_max);
  CHECK(out_max > 0.0f);

  // Over several samples: the maximum of the per-sample maxima.
  const auto r3 = m.calibrate(w, 3, 77);
  CHECK(r3[0].input_absmax >= r[0].input_absmax);
  CHECK(m.calibrate(w, 3, 77)[0].output_absmax == r3[0].output_absmax);
  CHECK(m.calibrate(w, 3, 78)[0].output_absmax != r3[0].output_absmax);
  CHECK_THROWS_AS(m.calibrate(w, 0, 1), pcnn::Error);
}

TEST_CASE("calibration of the CIFAR zoo models is deterministic and positive", "[onnx]") {
  pcnn_test::ScratchDir dir;
  for (const char* name : {"vgg16-cifar", "resnet18-cifar"}) {
    INFO(name);
    pcnn::build_zoo_model(name, 1).write(dir.file("m.onnx"));
    const auto m = pcnn::OnnxModel::load(dir.file("m.onnx"));
    const auto w = weights_of(m);
    const auto a = m.calibrate(w, 2, 5);
    const auto b = m.calibrate(w, 2, 5);
    REQUIRE(a.size() == m.convs().size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].input_absmax == b[i].input_absmax);
      CHECK(a[i].output_absmax == b[i].output_absmax);
      CHECK(a[i].input_absmax > 0.0f);
      CHECK(a[i].output_absmax > 0.0f);
      CHECK(std::isfinite(a[i].output_absmax));
    }
    // A conv's input is the previous conv's (post-ReLU) output in VGG.
    if (std::string(name) == "vgg16-cifar") CHECK(a[1].input_absmax == a[0].output_absmax);
    const auto logits = m.run(w, std::vector<float>(3 * 32 * 32, 0.1f));
    CHECK(logits.size() == 10);
  }
}

TEST_CASE("MatMul with a constant right-hand side and Reshape with 0 and -1", "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("mm", {1, 2, 2, 1}, 1);
  // [1,2,2,1] -> Reshape [0, -1] -> [1,4] -> MatMul [4,3] -> [1,3].
  const std::string x = b.reshape(b.input(), {0, -1}, "flat");
  CHECK(b.shape(x) == std::vector<std::int64_t>{1, 4});
  const std::string w = b.constant("w", {4, 3}, {1, 0, 2, 0, 1, 0, 0, 0, -1, 3, 0, 0.5f});
  b.output(b.node("MatMul", {x, w}, {1, 3}, "mm"));
  b.write(dir.file("mm.onnx"));
  const auto y = pcnn::OnnxModel::load(dir.file("mm.onnx")).run({}, {1, 2, 3, 4});
  // Row [1 2 3 4] times the columns: (1+12, 2, 2-3+2).
  REQUIRE(y.size() == 3);
  CHECK(y[0] == Approx(13.0f));
  CHECK(y[1] == Approx(2.0f));
  CHECK(y[2] == Approx(1.0f));
}
