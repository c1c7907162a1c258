// SPM index bit packing, image round trip, checksums, version, atomic writes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "pcnn/core/error.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/image/staging_dir.hpp"
#include "pcnn/prune/pruner.hpp"
#include "prune_test_support.hpp"

using namespace pcnn;
using pcnn_test::TempDir;

TEST_CASE("SPM index bit packing for every width 0..7", "[image]") {
  std::mt19937 rng(3);
  for (int bits = 0; bits <= 7; ++bits) {
    for (std::size_t count : {0u, 1u, 7u, 8u, 9u, 61u, 1000u}) {
      std::vector<std::uint32_t> v(count);
      for (auto& x : v) x = bits ? rng() & ((1u << bits) - 1u) : 0u;
      const std::vector<std::uint8_t> packed = pack_bits(v, bits);
      CHECK(packed.size() == (count * static_cast<std::size_t>(bits) + 7) / 8);
      // Independent layout check: stream bit j is bit (j % bits) of value j / bits,
      // stored in byte j / 8 at bit j % 8 (LSB first).
      for (std::size_t j = 0; j < count * static_cast<std::size_t>(bits); ++j) {
        const unsigned expect = (v[j / bits] >> (j % bits)) & 1u;
        REQUIRE(((packed[j / 8] >> (j % 8)) & 1u) == expect);
      }
      for (std::size_t j = count * bits; j < packed.size() * 8; ++j)
        REQUIRE(((packed[j / 8] >> (j % 8)) & 1u) == 0u);  // padding bits are zero
      for (std::size_t i = 0; i < count; ++i)
        REQUIRE(unpack_bits(packed.data(), packed.size(), static_cast<std::int64_t>(i), bits) ==
                v[i]);
    }
  }
  const std::vector<std::uint8_t> one = pack_bits({5, 6}, 3);
  CHECK_THROWS_AS(unpack_bits(one.data(), one.size(), 2, 3), Error);
}

TEST_CASE("write_bit_field changes only its field, every width 0..32", "[image]") {
  std::mt19937 rng(8);
  for (int bits = 0; bits <= 32; ++bits)
    for (std::uint64_t pos : {0u, 1u, 7u, 8u, 13u, 31u, 33u, 56u}) {
      std::vector<std::uint8_t> data(12);
      for (auto& b : data) b = static_cast<std::uint8_t>(rng());
      const std::vector<std::uint8_t> before = data;
      const std::uint32_t value = static_cast<std::uint32_t>(rng());  // bits above `bits` ignored
      write_bit_field(data.data(), data.size(), pos, bits, value);
      for (std::uint64_t j = 0; j < data.size() * 8; ++j) {
        const unsigned got = (data[j / 8] >> (j % 8)) & 1u;
        const bool inside = j >= pos && j < pos + static_cast<std::uint64_t>(bits);
        const unsigned expect =
            inside ? (value >> (j - pos)) & 1u : (before[j / 8] >> (j % 8)) & 1u;
        REQUIRE(got == expect);
      }
    }
  std::vector<std::uint8_t> two(2);
  CHECK_THROWS_AS(write_bit_field(two.data(), two.size(), 10, 7, 1), Error);
}

TEST_CASE("copy_bit_field moves a bit range as read/write_bit_field do, ends included", "[image]") {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<std::uint8_t> src(1 + rng() % 24), dst(1 + rng() % 24);
    for (auto& b : src) b = static_cast<std::uint8_t>(rng());
    for (auto& b : dst) b = static_cast<std::uint8_t>(rng());
    const std::uint64_t max_count = std::min(src.size(), dst.size()) * 8;
    const std::uint64_t count = rng() % (max_count + 1);
    const std::uint64_t from = rng() % (src.size() * 8 - count + 1);
    const std::uint64_t to = rng() % (dst.size() * 8 - count + 1);
    // Reference: the same move one bit at a time through the field routines.
    std::vector<std::uint8_t> expect = dst;
    for (std::uint64_t j = 0; j < count; ++j)
      write_bit_field(expect.data(), expect.size(), to + j, 1,
                      read_bit_field(src.data(), src.size(), from + j, 1));
    copy_bit_field(dst.data(), dst.size(), to, src.data(), src.size(), from, count);
    REQUIRE(dst == expect);
  }
  std::vector<std::uint8_t> a(4), b(4);
  CHECK_THROWS_AS(copy_bit_field(a.data(), a.size(), 0, b.data(), b.size(), 1, 32), Error);
  CHECK_THROWS_AS(copy_bit_field(a.data(), a.size(), 25, b.data(), b.size(), 0, 8), Error);
  CHECK_NOTHROW(copy_bit_field(a.data(), a.size(), 32, b.data(), b.size(), 32, 0));
}

namespace {

// Four layers: pattern-pruned 3x3 with BN, a 1x1 (dense), a 3x3 at n = 1,
// and a 5x5 (K = 25, dense without a mask).
PrunedModel sample_model(QuantGranularity quant = QuantGranularity::kPerChannel) {
  std::vector<FloatConv> convs = {pcnn_test::random_conv("conv_a", 0, 5, 7, 10, 3, 3, 1, true, 1),
                                  pcnn_test::random_conv("conv_b", 1, 7, 6, 10, 1, 1, 1, false, 2),
                                  pcnn_test::random_conv("conv_c", 2, 6, 9, 8, 3, 3, 1, true, 3),
                                  pcnn_test::random_conv("conv_d", 3, 9, 4, 8, 5, 5, 1, false, 4)};
  std::vector<LayerOverride> ov(1);
  ov[0].where = "test";
  ov[0].name = "conv_c";
  ov[0].n = 1;
  ov[0].patterns = 3;
  const auto settings = resolve_layer_settings(convs, 4, 16, ov);
  PrunedModel pm = prune_convs(convs, settings, quant);
  std::vector<ConvActivationRange> ranges(convs.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    ranges[i].input_absmax = 2.0f + static_cast<float>(i);
    ranges[i].output_absmax = 3.0f + static_cast<float>(i);
  }
  apply_activation_ranges(pm, convs, ranges);
  pm.images.model_name = "sample";
  pm.images.source_file = "sample.onnx";
  return pm;
}

void flip_byte(const std::string& path, std::size_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x10));
}

std::string error_of(const std::string& dir) {
  try {
    read_model_images(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("image round trip rebuilds every layer", "[image]") {
  TempDir tmp;
  for (QuantGranularity q : {QuantGranularity::kPerChannel, QuantGranularity::kPerLayer}) {
    PrunedModel pm = sample_model(q);
    const std::string dir = tmp / (q == QuantGranularity::kPerLayer ? "pl" : "pc");
    write_model_images(pm.images, dir);
    CHECK(pcnn_test::listing(tmp.path()).back() ==
          (q == QuantGranularity::kPerLayer ? "pl" : "pc"));
    const ModelImages back = read_model_images(dir);
    CHECK(back.identity == pm.images.identity);
    CHECK(back.model_name == "sample");
    CHECK(back.source_file == "sample.onnx");
    REQUIRE(back.layers.size() == pm.images.layers.size());
    for (std::size_t l = 0; l < back.layers.size(); ++l) {
      const SpmLayer& a = pm.images.layers[l];
      const SpmLayer& b = back.layers[l];
      INFO("layer " << a.name);
      CHECK(b.name == a.name);
      CHECK(b.pattern_pruned == a.pattern_pruned);
      CHECK(b.n == a.n);
      CHECK(b.patterns == a.patterns);
      CHECK(b.kernel_index == a.kernel_index);
      CHECK(b.nonzeros == a.nonzeros);
      CHECK(b.dense_weights() == a.dense_weights());
      CHECK(b.weight_scale == a.weight_scale);
      CHECK(b.bias == a.bias);
      CHECK(b.input_scale == a.input_scale);
      CHECK(b.output_scale == a.output_scale);
      CHECK(b.relu == a.relu);
      CHECK(b.weight_offset == a.weight_offset);
      CHECK(b.weight_offset % static_cast<std::uint64_t>(b.row_bytes()) == 0);
      for (std::size_t m = 0; m < a.requant.size(); ++m) {
        CHECK(b.requant[m].multiplier == a.requant[m].multiplier);
        CHECK(b.requant[m].shift == a.requant[m].shift);
      }
    }
    // Activation scales, bias and requantisation follow the given ranges.
    for (std::size_t l = 0; l < back.layers.size(); ++l) {
      const SpmLayer& b = back.layers[l];
      CHECK(b.input_scale == Approx((2.0 + l) / 127.0));
      CHECK(b.output_scale == Approx((3.0 + l) / 127.0));
      for (std::size_t m = 0; m < b.requant.size(); ++m) {
        const double real = static_cast<double>(b.input_scale) * b.weight_scale[m] / b.output_scale;
        CHECK(std::ldexp(static_cast<double>(b.requant[m].multiplier),
                         -(31 + b.requant[m].shift)) == Approx(real).epsilon(1e-9));
        const double bias_real = pm.folded_bias[l][m];
        CHECK(std::fabs(b.bias[m] * b.input_scale * b.weight_scale[m] - bias_real) <=
              0.5 * b.input_scale * b.weight_scale[m] * (1 + 1e-6));
      }
    }
    // What the pruner decided: 3x3 layers pattern-pruned, the others dense.
    CHECK(back.layers[0].pattern_pruned);
    CHECK(back.layers[0].num_patterns() == 16);
    CHECK_FALSE(back.layers[1].pattern_pruned);
    CHECK(back.layers[2].n == 1);
    CHECK(back.layers[2].num_patterns() == 3);
    CHECK_FALSE(back.layers[3].pattern_pruned);
    CHECK(back.layers[3].n == 25);
  }
}

TEST_CASE("image writing is byte-identical for the same layers", "[image]") {
  TempDir tmp;
  PrunedModel a = sample_model();
  PrunedModel b = sample_model();
  write_model_images(a.images, tmp / "a");
  write_model_images(b.images, tmp / "b");
  for (const char* f : {"weights.bin", "patterns.bin", "pattern_config.bin", "manifest.json"})
    CHECK(pcnn_test::file_bytes(tmp / (std::string("a/") + f)) ==
          pcnn_test::file_bytes(tmp / (std::string("b/") + f)));
}

TEST_CASE("image reader rejects a flipped byte in any image", "[image]") {
  TempDir tmp;
  PrunedModel pm = sample_model();
  for (const char* f : {"weights.bin", "patterns.bin", "pattern_config.bin"}) {
    const std::string dir = tmp / f;
    write_model_images(pm.images, dir);
    const std::string path = dir + "/" + f;
    flip_byte(path, pcnn_test::file_bytes(path).size() / 2);
    const std::string msg = error_of(dir);
    INFO(msg);
    // Inside a layer's region the message names the layer; the middle of
    // pattern_config.bin is a record too.
    CHECK(msg.rfind(path + ": layer '", 0) == 0);
    CHECK(msg.find("': checksum mismatch in bytes ") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  // A changed digit inside the manifest (a scale) breaks the identity.
  const std::string dir = tmp / "manifest";
  write_model_images(pm.images, dir);
  std::string text;
  {
    std::ifstream in(dir + "/manifest.json");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\"relu\": true");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "\"relu\": fals");  // not even JSON any more
  std::ofstream(dir + "/manifest.json") << text;
  CHECK(error_of(dir).rfind(dir + "/manifest.json: ", 0) == 0);
  text.replace(at, 12, "\"relu\":false");  // valid JSON, altered content
  std::ofstream(dir + "/manifest.json") << text;
  CHECK(error_of(dir) ==
        dir + "/manifest.json: identity checksum mismatch: the manifest was altered");
}

TEST_CASE("image reader rejects a manifest of an unknown version", "[image]") {
  TempDir tmp;
  PrunedModel pm = sample_model();
  write_model_images(pm.images, tmp / "v");
  std::string text;
  {
    std::ifstream in(tmp / "v/manifest.json");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = text.find("\"version\": 2");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "\"version\": 7");
  std::ofstream(tmp / "v/manifest.json") << text;
  CHECK(error_of(tmp / "v") ==
        tmp / "v/manifest.json: unknown format version 7 (this reader knows version 2)");
  // Version 1 (one checksum per file) is refused with what to do about it.
  text.replace(at, 12, "\"version\": 1");
  std::ofstream(tmp / "v/manifest.json", std::ios::trunc) << text;
  CHECK(error_of(tmp / "v") ==
        tmp /
            "v/manifest.json: image format version 1 has no per-layer checksums (this reader "
            "knows version 2): run pcnn-prune on the model again to rewrite the images");
  CHECK(error_of(tmp / "missing").rfind(tmp / "missing/manifest.json: cannot open", 0) == 0);
}

TEST_CASE("image reader rejects empty and repeated layer names", "[image]") {
  TempDir tmp;
  PrunedModel pm = sample_model();
  REQUIRE(pm.images.layers.size() >= 2);
  // Written consistently (checksums match), so only the name check can refuse them.
  for (const std::string& name : {pm.images.layers[0].name, std::string()}) {
    const std::string dir = tmp / ("names" + std::to_string(name.size()));
    ModelImages images = pm.images;
    images.layers[1].name = name;
    write_model_images(images, dir);
    const std::string msg = error_of(dir);
    INFO(msg);
    CHECK(msg.rfind(dir + "/manifest.json: ", 0) == 0);
    CHECK(msg.find("layers[1].name") != std::string::npos);
    CHECK(msg.find(name.empty() ? "is empty" : "names an earlier layer too") != std::string::npos);
  }
}

TEST_CASE("an output directory that cannot be written leaves nothing behind", "[image]") {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  PrunedModel pm = sample_model();
  try {
    write_model_images(pm.images, tmp / "file/out");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind(tmp / "file/out: cannot create", 0) == 0);
  }
  // A non-empty foreign directory is not replaced.
  std::filesystem::create_directory(tmp / "foreign");
  std::ofstream(tmp / "foreign/keep.txt") << "x";
  CHECK_THROWS_AS(write_model_images(pm.images, tmp / "foreign"), Error);
  CHECK(pcnn_test::listing(tmp.path()) == std::vector<std::string>{"file", "foreign"});
  // A staging directory abandoned halfway is removed.
  {
    StagingDirectory s(tmp / "late");
    write_file_synced(s.file("part.bin"), "abc");
  }
  CHECK(pcnn_test::listing(tmp.path()) == std::vector<std::string>{"file", "foreign"});
  // An earlier output is replaced as a whole.
  write_model_images(pm.images, tmp / "out");
  write_model_images(pm.images, tmp / "out");
  CHECK(pcnn_test::listing(tmp.path()) == std::vector<std::string>{"file", "foreign", "out"});
}

TEST_CASE("a program reading corrupted images fails with one line naming the file", "[image]") {
  // pcnn-sim is the program that reads images; it reports the reader's error.
  TempDir tmp;
  PrunedModel pm = sample_model();
  write_model_images(pm.images, tmp / "flip");
  flip_byte(tmp / "flip/patterns.bin", 3);
  write_model_images(pm.images, tmp / "ver");
  std::string text;
  {
    std::ifstream in(tmp / "ver/manifest.json");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("\"version\": 2"), 12, "\"version\": 3");
  std::ofstream(tmp / "ver/manifest.json") << text;
  const std::vector<std::string> before = pcnn_test::listing(tmp.path());
  struct Case {
    std::string dir, expected;
  };
  for (const Case& c :
       {Case{tmp / "flip", tmp / ("flip/patterns.bin: layer '" + pm.images.layers[0].name +
                                  "': checksum mismatch in bytes ")},
        Case{tmp / "ver",
             tmp / "ver/manifest.json: unknown format version 3 (this reader knows version 2)"}}) {
    const pcnn_test::Run r =
        pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " run " + c.dir + " --all");
    INFO(r.out);
    CHECK(r.status > 0);
    CHECK(r.out.rfind("pcnn-sim: " + c.expected, 0) == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  }
  CHECK(pcnn_test::listing(tmp.path()) == before);
}
