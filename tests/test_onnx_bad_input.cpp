// Every malformed model gets one pcnn::Error line naming the file and the fault.
#include <catch2/catch.hpp>

#include <cstring>
#include <tuple>

#include "onnx_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "src/onnx/seeded_random.hpp"

namespace {

pcnn::ModelBuilder conv_net() {
  pcnn::ModelBuilder b("net", {1, 3, 8, 8}, 2);
  std::string x =
      b.relu(b.batch_norm(b.conv(b.input(), 4, pcnn::ConvOptions{}, "c1"), "bn1"), "r1");
  x = b.conv(x, 4, pcnn::ConvOptions{}, "c2");
  b.output(b.gemm(b.flatten(b.global_average_pool(x, "gap"), "flat"), 3, "fc"));
  return b;
}

// Loading `path` must throw a one-line pcnn::Error that names the file and
// contains `what`.
void expect_load_error(const std::string& path, const std::string& what) {
  try {
    pcnn::OnnxModel::load(path);
    FAIL("loaded without error; expected: " << what);
  } catch (const pcnn::Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.rfind(path + ": ", 0) == 0);
    CHECK(msg.find(what) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

onnx::TensorProto* initializer(onnx::ModelProto& m, const std::string& name) {
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

onnx::NodeProto* node(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == name) return &n;
  return nullptr;
}

}  // namespace

TEST_CASE("missing, truncated and random files are rejected", "[onnx]") {
  pcnn_test::ScratchDir dir;
  expect_load_error(dir.file("absent.onnx"), "cannot open");
  expect_load_error(dir.path().string(), "not a regular file");

  conv_net().write(dir.file("good.onnx"));
  const std::string bytes = pcnn_test::read_bytes(dir.file("good.onnx"));
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{7}, bytes.size() / 3,
                          bytes.size() / 2, bytes.size() - 100, bytes.size() - 1}) {
    INFO("cut at " << cut);
    pcnn_test::write_bytes(dir.file("cut.onnx"), bytes.substr(0, cut));
    CHECK_THROWS_AS(pcnn::OnnxModel::load(dir.file("cut.onnx")), pcnn::Error);
  }
  pcnn_test::write_bytes(dir.file("half.onnx"), bytes.substr(0, bytes.size() / 2));
  expect_load_error(dir.file("half.onnx"), "truncated or corrupt");

  pcnn::onnx_detail::SeededRandom rng(1234);
  for (int trial = 0; trial < 20; ++trial) {
    std::string noise(4096 + trial * 97, '\0');
    for (auto& c : noise) c = static_cast<char>(rng.next() & 0xff);
    pcnn_test::write_bytes(dir.file("random.onnx"), noise);
    CHECK_THROWS_AS(pcnn::OnnxModel::load(dir.file("random.onnx")), pcnn::Error);
  }
  pcnn_test::write_bytes(dir.file("empty.onnx"), "");
  expect_load_error(dir.file("empty.onnx"), "no graph");
}

TEST_CASE("tensor data type and size faults are rejected", "[onnx]") {
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("good.onnx"));
  const auto good = pcnn_test::read_proto(dir.file("good.onnx"));

  auto m = good;
  initializer(m, "c1.weight")->set_data_type(onnx::TensorProto::UNDEFINED);
  pcnn_test::write_proto(m, dir.file("untyped.onnx"));
  expect_load_error(dir.file("untyped.onnx"), "tensor 'c1.weight': missing data type");

  m = good;
  auto* w = initializer(m, "c1.weight");
  w->set_data_type(onnx::TensorProto::INT8);
  w->set_raw_data(std::string(4 * 3 * 3 * 3, '\1'));
  pcnn_test::write_proto(m, dir.file("int8.onnx"));
  expect_load_error(dir.file("int8.onnx"), "unsupported data type INT8");

  m = good;
  w = initializer(m, "c2.weight");
  w->mutable_raw_data()->resize(w->raw_data().size() - 4);
  pcnn_test::write_proto(m, dir.file("short.onnx"));
  expect_load_error(dir.file("short.onnx"), "tensor 'c2.weight': raw_data holds");

  m = good;
  initializer(m, "c2.weight")->clear_raw_data();  // no data at all
  pcnn_test::write_proto(m, dir.file("empty_weight.onnx"));
  expect_load_error(dir.file("empty_weight.onnx"), "float_data holds 0 values");
}

TEST_CASE("weights inconsistent with the conv attributes or input are rejected", "[onnx]") {
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("good.onnx"));
  const auto good = pcnn_test::read_proto(dir.file("good.onnx"));

  auto m = good;
  for (auto& a : *node(m, "c2")->mutable_attribute())
    if (a.name() == "kernel_shape") {
      a.set_ints(0, 5);
      a.set_ints(1, 5);
    }
  pcnn_test::write_proto(m, dir.file("kernel.onnx"));
  expect_load_error(dir.file("kernel.onnx"),
                    "conv 'c2': kernel_shape [5,5] disagrees with weight shape [4,4,3,3]");

  m = good;  // two convs with one name: --layer would select both
  node(m, "c2")->set_name("c1");
  pcnn_test::write_proto(m, dir.file("names.onnx"));
  expect_load_error(dir.file("names.onnx"), "are both named 'c1'; layer names must be unique");

  m = good;  // weights for 5 input channels on a 4-channel input (data resized to match)
  auto* w = initializer(m, "c2.weight");
  w->set_dims(1, 5);
  w->mutable_raw_data()->resize(4 * 5 * 9 * 4);
  pcnn_test::write_proto(m, dir.file("channels.onnx"));
  expect_load_error(dir.file("channels.onnx"),
                    "conv 'c2': weight shape [4,5,3,3] with group 1 needs 5 input channels");

  m = good;
  w = initializer(m, "c1.weight");
  w->clear_dims();
  w->add_dims(4);
  w->add_dims(27);
  pcnn_test::write_proto(m, dir.file("rank.onnx"));
  expect_load_error(dir.file("rank.onnx"), "only 2-D convolutions");

  m = good;
  node(m, "c1")->set_input(1, "nowhere");
  pcnn_test::write_proto(m, dir.file("dangling.onnx"));
  expect_load_error(dir.file("dangling.onnx"),
                    "weight 'nowhere' is neither an initializer nor a Constant output");

  m = good;
  for (auto& a : *node(m, "c1")->mutable_attribute())
    if (a.name() == "group") a.set_i(3);
  pcnn_test::write_proto(m, dir.file("group.onnx"));
  expect_load_error(dir.file("group.onnx"), "group 3 does not divide the 4 output channels");
}

TEST_CASE("zero or negative conv window attributes are rejected before shape inference",
          "[onnx]") {
  // ONNX's own shape inference would divide by a zero stride.
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("good.onnx"));
  const auto good = pcnn_test::read_proto(dir.file("good.onnx"));
  const std::tuple<const char*, std::vector<std::int64_t>, const char*> cases[] = {
      {"strides", {0, 1}, "node 'c1' (Conv): strides must be positive, got 0"},
      {"dilations", {1, -2}, "node 'c1' (Conv): dilations must be positive, got -2"},
      {"kernel_shape", {0, 3}, "node 'c1' (Conv): kernel_shape must be positive, got 0"},
      {"pads", {1, 1, -1, 1}, "node 'c1' (Conv): pads must not be negative, got -1"},
  };
  int i = 0;
  for (const auto& [name, values, expected] : cases) {
    auto m = good;
    auto* n = node(m, "c1");
    onnx::AttributeProto* attr = nullptr;
    for (auto& a : *n->mutable_attribute())
      if (a.name() == name) attr = &a;
    if (!attr) {
      attr = n->add_attribute();
      attr->set_name(name);
      attr->set_type(onnx::AttributeProto::INTS);
    }
    attr->clear_ints();
    for (std::int64_t v : values) attr->add_ints(v);
    const std::string file = dir.file("window" + std::to_string(i++) + ".onnx");
    pcnn_test::write_proto(m, file);
    expect_load_error(file, expected);
  }
}

TEST_CASE("external data faults are rejected", "[onnx]") {
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("ext.onnx"), pcnn::WeightStorage::external_data);
  REQUIRE_NOTHROW(pcnn::OnnxModel::load(dir.file("ext.onnx")));
  const auto good = pcnn_test::read_proto(dir.file("ext.onnx"));
  const std::string data = pcnn_test::read_bytes(dir.file("ext.onnx.data"));

  pcnn_test::write_bytes(dir.file("ext.onnx.data"), data.substr(0, data.size() - 10));
  expect_load_error(dir.file("ext.onnx"), "external-data file 'ext.onnx.data' holds");

  std::filesystem::remove(dir.file("ext.onnx.data"));
  expect_load_error(dir.file("ext.onnx"), "cannot open external-data file 'ext.onnx.data'");
  pcnn_test::write_bytes(dir.file("ext.onnx.data"), data);

  auto set_location = [&](const std::string& location, const std::string& file) {
    auto m = good;
    for (auto& e : *initializer(m, "c1.weight")->mutable_external_data())
      if (e.key() == "location") e.set_value(location);
    pcnn_test::write_proto(m, dir.file(file));
  };
  std::filesystem::create_directories(dir.path() / "sub");
  set_location("../ext.onnx.data", "sub/up.onnx");
  expect_load_error(dir.file("sub/up.onnx"), "leaves the model's directory");
  set_location("/etc/passwd", "abs.onnx");
  expect_load_error(dir.file("abs.onnx"), "is absolute");
  std::filesystem::create_symlink(dir.file("ext.onnx.data"), dir.file("sub/link.data"));
  set_location("link.data", "sub/link.onnx");
  expect_load_error(dir.file("sub/link.onnx"), "leaves the model's directory");

  auto m = good;
  for (auto& e : *initializer(m, "c1.weight")->mutable_external_data())
    if (e.key() == "length") e.set_value("12");
  pcnn_test::write_proto(m, dir.file("length.onnx"));
  expect_load_error(dir.file("length.onnx"), "external-data length 12");
}

TEST_CASE("unsupported operators fail the forward pass, not the load", "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("lrn", {1, 3, 8, 8}, 2);
  std::string x = b.conv(b.input(), 4, pcnn::ConvOptions{}, "c1");
  b.output(b.node("LRN", {x}, {1, 4, 8, 8}, "norm"));
  b.write(dir.file("lrn.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("lrn.onnx"));
  REQUIRE(m.convs().size() == 1);
  const std::vector<std::vector<float>> w = {m.convs()[0].weights};
  CHECK_THROWS_WITH(
      m.calibrate(w, 1, 1),
      dir.file("lrn.onnx") +
          ": node 'norm' (LRN): operator LRN is not supported by the float interpreter");
  CHECK_THROWS_AS(m.run(w, std::vector<float>(3 * 8 * 8)), pcnn::Error);
}

TEST_CASE("a model without Conv loads with no conv layers and runs", "[onnx]") {
  pcnn_test::ScratchDir dir;
  pcnn::ModelBuilder b("mlp", {1, 4, 1, 1}, 2);
  b.output(b.gemm(b.relu(b.gemm(b.flatten(b.input(), "flat"), 6, "fc1"), "r"), 2, "fc2"));
  b.write(dir.file("mlp.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("mlp.onnx"));
  CHECK(m.convs().empty());
  CHECK(m.graph_name() == "mlp");
  CHECK(m.run({}, {1, 2, 3, 4}).size() == 2);
  CHECK(m.calibrate({}, 1, 1).empty());
}

TEST_CASE("a wrongly sized input is rejected by run", "[onnx]") {
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("m.onnx"));
  const auto m = pcnn::OnnxModel::load(dir.file("m.onnx"));
  std::vector<std::vector<float>> w;
  for (const auto& c : m.convs()) w.push_back(c.weights);
  CHECK_THROWS_WITH(m.run(w, std::vector<float>(10)), Catch::Contains("input has 10 values"));
}

TEST_CASE("random byte flips never crash the loader or the interpreter", "[onnx]") {
  pcnn_test::ScratchDir dir;
  conv_net().write(dir.file("good.onnx"));
  const std::string good = pcnn_test::read_bytes(dir.file("good.onnx"));
  const std::uint64_t seed = Catch::rngSeed();
  INFO("seed " << seed);
  pcnn::onnx_detail::SeededRandom rng(seed);
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng.next() % 3);
    for (int f = 0; f < flips; ++f)
      bytes[rng.next() % bytes.size()] = static_cast<char>(rng.next() & 0xff);
    pcnn_test::write_bytes(dir.file("flip.onnx"), bytes);
    try {
      const auto m = pcnn::OnnxModel::load(dir.file("flip.onnx"));
      std::vector<std::vector<float>> w;
      for (const auto& c : m.convs()) w.push_back(c.weights);
      try {
        m.calibrate(w, 1, 1);
      } catch (const pcnn::Error&) {
      }
      ++loaded;
    } catch (const pcnn::Error& e) {
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
      ++rejected;
    }
  }
  CHECK(loaded + rejected == 300);
}
