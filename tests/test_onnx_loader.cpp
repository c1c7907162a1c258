// Reading ONNX models: every weight storage variant, BN / ReLU detection, conv
// attributes and geometry, and writing the graph back with new weights.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "onnx/checker.h"
#include "onnx_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "src/onnx/tensor_data.hpp"

namespace {

// A small net touching every node kind the builder emits, with biased and
// unbiased convs, BN, ReLU, pooling, a residual Add, Gemm.
pcnn::ModelBuilder small_net(std::uint64_t seed) {
  pcnn::ModelBuilder b("small", {1, 3, 12, 12}, seed);
  pcnn::ConvOptions biased;
  biased.bias = true;
  std::string x = b.conv(b.input(), 8, biased, "c1");
  x = b.batch_norm(x, "bn1");
  x = b.relu(x, "r1");
  std::string y = b.conv(x, 8, pcnn::ConvOptions{}, "c2");
  y = b.batch_norm(y, "bn2");
  x = b.relu(b.add(x, y, "add"), "r2");
  x = b.max_pool(x, 2, 2, 0, "pool");
  pcnn::ConvOptions one;
  one.kernel = 1;
  one.pad = 0;
  x = b.relu(b.conv(x, 4, one, "c3"), "r3");
  x = b.flatten(b.global_average_pool(x, "gap"), "flat");
  b.output(b.gemm(x, 5, "fc"));
  return b;
}

}  // namespace

TEST_CASE("every weight storage variant loads to the same weights", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const auto net = small_net(11);
  net.write(dir.file("raw.onnx"), pcnn::WeightStorage::raw_data);
  const auto raw = pcnn::OnnxModel::load(dir.file("raw.onnx"));
  REQUIRE(raw.convs().size() == 3);

  struct Variant {
    pcnn::WeightStorage storage;
    const char* file;
  };
  for (const Variant v : {Variant{pcnn::WeightStorage::typed_fields, "typed.onnx"},
                          Variant{pcnn::WeightStorage::constant_nodes, "constant.onnx"},
                          Variant{pcnn::WeightStorage::external_data, "external.onnx"}}) {
    INFO(v.file);
    net.write(dir.file(v.file), v.storage);
    REQUIRE_NOTHROW(onnx::checker::check_model(dir.file(v.file)));
    const auto m = pcnn::OnnxModel::load(dir.file(v.file));
    REQUIRE(m.convs().size() == raw.convs().size());
    for (std::size_t i = 0; i < m.convs().size(); ++i) {
      CHECK(m.convs()[i].name == raw.convs()[i].name);
      CHECK(m.convs()[i].weights == raw.convs()[i].weights);
      CHECK(m.convs()[i].bias == raw.convs()[i].bias);
      CHECK(m.convs()[i].bn_scale == raw.convs()[i].bn_scale);
      CHECK(m.convs()[i].bn_shift == raw.convs()[i].bn_shift);
    }
  }
  // The external file really holds the data: the model alone is small.
  CHECK(std::filesystem::file_size(dir.file("external.onnx")) < 4096);
  CHECK(std::filesystem::exists(dir.file("external.onnx.data")));

  // float16: every weight is the half-precision rounding of the float32 one.
  net.write(dir.file("half.onnx"), pcnn::WeightStorage::float16);
  const auto half = pcnn::OnnxModel::load(dir.file("half.onnx"));
  for (std::size_t i = 0; i < half.convs().size(); ++i) {
    const auto& w32 = raw.convs()[i].weights;
    const auto& w16 = half.convs()[i].weights;
    REQUIRE(w16.size() == w32.size());
    for (std::size_t k = 0; k < w32.size(); ++k) {
      CHECK(w16[k] == pcnn::onnx_detail::half_to_float(pcnn::onnx_detail::float_to_half(w32[k])));
      CHECK(std::abs(w16[k] - w32[k]) <= std::abs(w32[k]) * (1.0f / 1024) + 6e-8f);
    }
  }
}

TEST_CASE("FLOAT16, BFLOAT16 and DOUBLE in typed fields decode like raw_data", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const auto net = small_net(4);
  net.write(dir.file("half.onnx"), pcnn::WeightStorage::float16);
  const auto half_raw = pcnn::OnnxModel::load(dir.file("half.onnx"));
  // FLOAT16 raw_data moved to int32_data (one value per entry, low 16 bits).
  auto m = pcnn_test::read_proto(dir.file("half.onnx"));
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != onnx::TensorProto::FLOAT16) continue;
    const std::string raw = t.raw_data();
    t.clear_raw_data();
    for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
      std::uint16_t bits;
      std::memcpy(&bits, raw.data() + i, 2);
      t.add_int32_data(bits);
    }
  }
  pcnn_test::write_proto(m, dir.file("half_typed.onnx"));
  const auto half_typed = pcnn::OnnxModel::load(dir.file("half_typed.onnx"));
  for (std::size_t i = 0; i < half_raw.convs().size(); ++i)
    CHECK(half_typed.convs()[i].weights == half_raw.convs()[i].weights);

  // float32 weights re-stored as DOUBLE (typed) and BFLOAT16 (raw).
  net.write(dir.file("f32.onnx"), pcnn::WeightStorage::typed_fields);
  const auto f32 = pcnn::OnnxModel::load(dir.file("f32.onnx"));
  auto d = pcnn_test::read_proto(dir.file("f32.onnx"));
  auto bf = d;
  for (auto& t : *d.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != onnx::TensorProto::FLOAT) continue;
    t.set_data_type(onnx::TensorProto::DOUBLE);
    for (float v : t.float_data()) t.add_double_data(v);
    t.clear_float_data();
  }
  for (auto& t : *bf.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != onnx::TensorProto::FLOAT) continue;
    t.set_data_type(onnx::TensorProto::BFLOAT16);
    std::string raw;
    for (float v : t.float_data()) {
      const std::uint16_t bits = pcnn::onnx_detail::float_to_bfloat16(v);
      raw.append(reinterpret_cast<const char*>(&bits), 2);
    }
    t.clear_float_data();
    t.set_raw_data(raw);
  }
  pcnn_test::write_proto(d, dir.file("double.onnx"));
  pcnn_test::write_proto(bf, dir.file("bf16.onnx"));
  const auto dbl = pcnn::OnnxModel::load(dir.file("double.onnx"));
  const auto b16 = pcnn::OnnxModel::load(dir.file("bf16.onnx"));
  for (std::size_t i = 0; i < f32.convs().size(); ++i) {
    CHECK(dbl.convs()[i].weights == f32.convs()[i].weights);
    const auto& w = f32.convs()[i].weights;
    for (std::size_t k = 0; k < w.size(); ++k)
      CHECK(b16.convs()[i].weights[k] == Approx(w[k]).epsilon(1.0 / 256).margin(1e-30));
  }
  // Written back, a BFLOAT16 model stays BFLOAT16.
  std::vector<std::vector<float>> weights;
  for (const auto& c : b16.convs()) weights.push_back(c.weights);
  b16.save_with_conv_weights(weights, dir.file("bf16_out.onnx"));
  const auto out = pcnn_test::read_proto(dir.file("bf16_out.onnx"));
  for (const auto& t : out.graph().initializer())
    CHECK(t.data_type() == onnx::TensorProto::BFLOAT16);
  const auto back = pcnn::OnnxModel::load(dir.file("bf16_out.onnx"));
  for (std::size_t i = 0; i < weights.size(); ++i) CHECK(back.convs()[i].weights == weights[i]);
}

TEST_CASE("half precision conversion is exact where it must be", "[onnx]") {
  using pcnn::onnx_detail::float_to_half;
  using pcnn::onnx_detail::half_to_float;
  CHECK(float_to_half(1.0f) == 0x3c00);
  CHECK(float_to_half(-2.0f) == 0xc000);
  CHECK(float_to_half(65504.0f) == 0x7bff);
  CHECK(float_to_half(1e6f) == 0x7c00);
  CHECK(float_to_half(5.9604645e-8f) == 0x0001);  // smallest subnormal
  CHECK(half_to_float(0x0001) == 5.9604645e-8f);
  CHECK(half_to_float(0x3555) == Approx(0.333251953125f));
  // Round trip of every finite half value.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    REQUIRE(float_to_half(half_to_float(static_cast<std::uint16_t>(h))) == h);
  }
  // Ties round to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  CHECK(float_to_half(1.0f + 1.0f / 2048) == 0x3c00);
  CHECK(float_to_half(1.0f + 3.0f / 2048) == 0x3c02);
}

TEST_CASE("BN is exposed as scale and shift, ReLU detection follows the consumers", "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("bn", {1, 2, 5, 5}, 1);
  const std::vector<float> gamma = {2.0f, 0.5f}, beta = {0.1f, -0.3f}, mean = {1.0f, -2.0f},
                           var = {3.0f, 0.25f};
  std::string x = b.conv(b.input(), 2, pcnn::ConvOptions{}, "with_bn");
  x = b.batch_norm(x, gamma, beta, mean, var, 1e-3f, "bn");
  x = b.relu(x, "relu");
  std::string y = b.conv(x, 2, pcnn::ConvOptions{}, "plain");  // no BN, output used twice
  std::string z = b.add(y, y, "twice");
  std::string w = b.relu(b.conv(z, 2, pcnn::ConvOptions{}, "relu_only"), "r2");
  b.output(w);
  b.write(dir.file("bn.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("bn.onnx"));
  REQUIRE(m.convs().size() == 3);
  const auto& c0 = m.convs()[0];
  CHECK(c0.has_batchnorm);
  CHECK(c0.relu_follows);
  for (int c = 0; c < 2; ++c) {
    const float scale = gamma[c] / std::sqrt(var[c] + 1e-3f);
    CHECK(c0.bn_scale[c] == Approx(scale));
    CHECK(c0.bn_shift[c] == Approx(beta[c] - mean[c] * scale));
  }
  const auto& c1 = m.convs()[1];
  CHECK_FALSE(c1.has_batchnorm);
  CHECK_FALSE(c1.relu_follows);
  CHECK(c1.bn_scale == std::vector<float>{1.0f, 1.0f});
  CHECK(c1.bn_shift == std::vector<float>{0.0f, 0.0f});
  CHECK(c1.bias == std::vector<float>{0.0f, 0.0f});
  const auto& c2 = m.convs()[2];
  CHECK_FALSE(c2.has_batchnorm);
  CHECK(c2.relu_follows);
}

TEST_CASE("conv attributes give the right geometry, auto_pad included", "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("geom", {1, 4, 11, 11}, 1);
  pcnn::ConvOptions strided;
  strided.stride = 2;
  strided.pad = 1;
  std::string x = b.conv(b.input(), 6, strided, "strided");  // 11 -> 6
  pcnn::ConvOptions dilated;
  dilated.dilation = 2;
  dilated.pad = 0;
  x = b.conv(x, 6, dilated, "dilated");  // 6 - 4 = 2
  pcnn::ConvOptions grouped;
  grouped.group = 3;
  x = b.conv(x, 3, grouped, "grouped");  // 2 -> 2
  pcnn::ConvOptions same;
  same.auto_pad = "SAME_UPPER";
  same.stride = 2;
  same.kernel = 2;
  std::string u = b.conv(b.input(), 2, same, "same_upper");  // 11 -> 6, total pad 1
  same.auto_pad = "SAME_LOWER";
  std::string l = b.conv(b.input(), 2, same, "same_lower");
  pcnn::ConvOptions valid;
  valid.auto_pad = "VALID";
  std::string v = b.conv(b.input(), 2, valid, "valid");  // 11 -> 9
  b.output(x);
  b.output(u);
  b.output(l);
  b.output(v);
  b.write(dir.file("geom.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("geom.onnx"));
  REQUIRE(m.convs().size() == 6);
  const auto& s = m.convs()[0].geom;
  CHECK(s.stride_h == 2);
  CHECK(s.out_h() == 6);
  const auto& d = m.convs()[1].geom;
  CHECK(d.dilation_w == 2);
  CHECK(d.in_h == 6);
  CHECK(d.out_w() == 2);
  const auto& g = m.convs()[2].geom;
  CHECK(g.group == 3);
  CHECK(g.in_channels == 6);
  CHECK(g.in_channels_per_group() == 2);
  CHECK_FALSE(g.pattern_prunable());
  const auto& up = m.convs()[3].geom;
  CHECK(up.pad_top == 0);
  CHECK(up.pad_bottom == 1);
  CHECK(up.out_h() == 6);
  const auto& lo = m.convs()[4].geom;
  CHECK(lo.pad_top == 1);
  CHECK(lo.pad_bottom == 0);
  CHECK(lo.out_w() == 6);
  const auto& va = m.convs()[5].geom;
  CHECK(va.pad_left == 0);
  CHECK(va.out_h() == 9);
}

TEST_CASE("save_with_conv_weights writes the same graph with new conv weights", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const auto net = small_net(5);
  for (const auto storage :
       {pcnn::WeightStorage::raw_data, pcnn::WeightStorage::float16,
        pcnn::WeightStorage::constant_nodes, pcnn::WeightStorage::external_data}) {
    INFO(static_cast<int>(storage));
    net.write(dir.file("in.onnx"), storage);
    const auto m = pcnn::OnnxModel::load(dir.file("in.onnx"));
    std::vector<std::vector<float>> weights;
    for (const auto& c : m.convs()) {
      std::vector<float> w = c.weights;
      for (std::size_t k = 0; k < w.size(); ++k)
        if (k % 3 != 0) w[k] = 0.0f;  // a pruned-looking kernel
      weights.push_back(w);
    }
    const std::string out = (dir.path() / "out" / "pruned.onnx").string();
    std::filesystem::create_directories(dir.path() / "out");
    m.save_with_conv_weights(weights, out);
    REQUIRE_NOTHROW(onnx::checker::check_model(out));
    const auto back = pcnn::OnnxModel::load(out);
    REQUIRE(back.convs().size() == m.convs().size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
      CHECK(back.convs()[i].weights == weights[i]);
      CHECK(back.convs()[i].bias == m.convs()[i].bias);
      CHECK(back.convs()[i].bn_scale == m.convs()[i].bn_scale);
    }
    // Graph unchanged: same nodes, same non-conv tensors.
    const auto a = pcnn_test::read_proto(dir.file("in.onnx"));
    const auto b = pcnn_test::read_proto(out);
    REQUIRE(a.graph().node_size() == b.graph().node_size());
    for (int i = 0; i < a.graph().node_size(); ++i) {
      CHECK(a.graph().node(i).op_type() == b.graph().node(i).op_type());
      CHECK(a.graph().node(i).name() == b.graph().node(i).name());
    }
    CHECK(back.run(weights, std::vector<float>(3 * 12 * 12, 0.5f)) ==
          m.run(weights, std::vector<float>(3 * 12 * 12, 0.5f)));
    // No temporary file left next to the output.
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path() / "out"))
      files += e.is_regular_file();
    CHECK(files == 1);
  }
}

TEST_CASE("save_with_conv_weights rejects weights of the wrong size", "[onnx]") {
  pcnn_test::ScratchDir dir;
  small_net(1).write(dir.file("m.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("m.onnx"));
  std::vector<std::vector<float>> w;
  for (const auto& c : m.convs()) w.push_back(c.weights);
  w[1].pop_back();
  CHECK_THROWS_WITH(m.save_with_conv_weights(w, dir.file("o.onnx")), Catch::Contains("conv 'c2'"));
  w.pop_back();
  CHECK_THROWS_AS(m.save_with_conv_weights(w, dir.file("o.onnx")), pcnn::Error);
  CHECK_FALSE(std::filesystem::exists(dir.file("o.onnx")));
}

TEST_CASE("weights that reach a conv through Identity nodes", "[onnx]") {
  pcnn_test::ScratchDir dir;
  small_net(3).write(dir.file("plain.onnx"));
  const auto plain = pcnn::OnnxModel::load(dir.file("plain.onnx"));
  // Route c1's weight and bias and bn1's scale through Identity, as some exporters do.
  auto m = pcnn_test::read_proto(dir.file("plain.onnx"));
  auto* nodes = m.mutable_graph()->mutable_node();
  onnx::NodeProto* conv = nullptr;
  onnx::NodeProto* bn = nullptr;
  for (auto& n : *nodes) {
    if (n.name() == "c1") conv = &n;
    if (n.name() == "bn1") bn = &n;
  }
  REQUIRE(conv);
  REQUIRE(bn);
  std::vector<onnx::NodeProto> ids;
  auto reroute = [&](onnx::NodeProto* n, int k) {
    onnx::NodeProto id;
    id.set_op_type("Identity");
    id.set_name(n->input(k) + "_identity");
    id.add_input(n->input(k));
    id.add_output(n->input(k) + "_identity_out");
    n->set_input(k, id.output(0));
    ids.push_back(id);
  };
  reroute(conv, 1);
  reroute(conv, 2);
  reroute(bn, 1);
  onnx::GraphProto* g = m.mutable_graph();
  std::vector<onnx::NodeProto> all(ids.begin(), ids.end());
  for (const auto& n : g->node()) all.push_back(n);
  g->clear_node();
  for (const auto& n : all) *g->add_node() = n;
  pcnn_test::write_proto(m, dir.file("identity.onnx"));

  const auto model = pcnn::OnnxModel::load(dir.file("identity.onnx"));
  REQUIRE(model.convs().size() == plain.convs().size());
  CHECK(model.convs()[0].weights == plain.convs()[0].weights);
  CHECK(model.convs()[0].bias == plain.convs()[0].bias);
  CHECK(model.convs()[0].bn_scale == plain.convs()[0].bn_scale);
  std::vector<std::vector<float>> w;
  for (const auto& c : model.convs()) w.push_back(c.weights);
  const std::vector<float> input(3 * 12 * 12, 0.25f);
  CHECK(model.run(w, input) == plain.run(w, input));
  w[0][0] = 7.0f;
  model.save_with_conv_weights(w, dir.file("out.onnx"));
  CHECK(pcnn::OnnxModel::load(dir.file("out.onnx")).convs()[0].weights == w[0]);
}

TEST_CASE("external tensors of other types are carried inline into the written model", "[onnx]") {
  pcnn_test::ScratchDir dir;
  small_net(2).write(dir.file("ext.onnx"), pcnn::WeightStorage::external_data);
  std::string data = pcnn_test::read_bytes(dir.file("ext.onnx.data"));
  auto m = pcnn_test::read_proto(dir.file("ext.onnx"));
  auto* extra =
      m.mutable_graph()->add_initializer();  // an unused INT8 tensor, as quantised models carry
  extra->set_name("extra");
  extra->set_data_type(onnx::TensorProto::INT8);
  extra->add_dims(5);
  extra->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [extra](const std::string& k, const std::string& v) {
    auto* e = extra->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", "ext.onnx.data");
  add("offset", std::to_string(data.size()));
  add("length", "5");
  data += std::string("\x01\x02\x03\xfe\xff", 5);
  pcnn_test::write_bytes(dir.file("ext.onnx.data"), data);
  pcnn_test::write_proto(m, dir.file("ext.onnx"));

  const auto model = pcnn::OnnxModel::load(dir.file("ext.onnx"));
  std::vector<std::vector<float>> w;
  for (const auto& c : model.convs()) w.push_back(c.weights);
  std::filesystem::create_directories(dir.path() / "elsewhere");
  const std::string out = (dir.path() / "elsewhere" / "out.onnx").string();
  model.save_with_conv_weights(w, out);
  const auto written = pcnn_test::read_proto(out);
  bool found = false;
  for (const auto& t : written.graph().initializer()) {
    CHECK(t.data_location() != onnx::TensorProto::EXTERNAL);
    if (t.name() == "extra") {
      found = true;
      CHECK(t.raw_data() == std::string("\x01\x02\x03\xfe\xff", 5));
    }
  }
  CHECK(found);
  CHECK(pcnn::OnnxModel::load(out).convs()[0].weights == w[0]);
}
