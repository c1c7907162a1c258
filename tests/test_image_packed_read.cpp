// Reading an image set without rebuilding the layers' per-kernel data
// (KernelData::packed, what `pcnn-sim run --all --no-dense` does): every check
// of the decoded read still applies, with the same message (an SPM index at or
// beyond V is found on the packed bits), decode_kernel_data() rebuilds a layer
// exactly as the decoded read does, and a packed layer simulates as the decoded
// one, also where the host lowers it (a grouped layer).
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/simulate.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

// Four layers: pattern-pruned with V = 5 (3 index bits, so a stored index can
// be 5..7), with V = 8, with V = 1 (no index bits) and a dense 1x1.
pcnn::ModelImages sample_images() {
  std::mt19937_64 rng(41);
  pcnn::ModelImages images;
  images.model_name = "packed";
  images.source_file = "packed.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 5;
  g.out_channels = 7;
  g.in_h = g.in_w = 6;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "a"));
  g.in_channels = 7;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 3, 5, true, rng, "b"));
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 1, 1, true, rng, "c"));
  g.kernel_h = g.kernel_w = 1;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
  images.layers.push_back(pcnn::make_dense_layer_with_geometry(g, false, rng, "d"));
  for (int i = 0; i < 4; ++i) images.layers[i].index = i;
  return images;
}

std::string error_of(const std::string& dir, pcnn::KernelData data) {
  try {
    pcnn::read_model_images(dir, data);
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "";
}

std::string hex32(std::uint32_t v) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", v);
  return hex;
}

std::uint32_t crc_of(const std::uint8_t* data, std::size_t size) {
  return static_cast<std::uint32_t>(::crc32_z(0, data, size));
}

// Stores `value` as SPM index `kernel` of layer `layer` in patterns.bin and
// signs everything again (the region's, the file's and the manifest's
// checksums), so that only the index check can find it.
void store_index(const std::string& dir, const pcnn::SpmLayer& layer, std::size_t layer_at,
                 std::int64_t kernel, std::uint32_t value) {
  std::vector<std::uint8_t> p = pcnn_test::file_bytes(dir + "/patterns.bin");
  const int bits = layer.index_bits();
  pcnn::write_bit_field(p.data() + layer.pattern_offset, p.size() - layer.pattern_offset,
                        static_cast<std::uint64_t>(kernel) * static_cast<std::uint64_t>(bits), bits,
                        value);
  std::ofstream(dir + "/patterns.bin", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(p.data()), static_cast<std::streamsize>(p.size()));
  const std::vector<std::uint8_t> text = pcnn_test::file_bytes(dir + "/manifest.json");
  nlohmann::json m = nlohmann::json::parse(text.begin(), text.end());
  nlohmann::json& region = m["layers"][layer_at]["patterns"];
  region["crc32"] = hex32(
      crc_of(p.data() + region["offset"].get<std::size_t>(), region["size"].get<std::size_t>()));
  m["images"]["patterns.bin"]["crc32"] = hex32(crc_of(p.data(), p.size()));
  m.erase("identity");
  const std::string body = pcnn::json_text(m);
  m["identity"] =
      "crc32:" + hex32(crc_of(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  std::ofstream(dir + "/manifest.json", std::ios::trunc) << pcnn::json_text(m) << "\n";
}

}  // namespace

TEST_CASE("a packed read keeps the files and rebuilds each layer on demand as a decoded read does",
          "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "img");
  const pcnn::ModelImages full = pcnn::read_model_images(tmp / "img");
  const pcnn::ModelImages packed = pcnn::read_model_images(tmp / "img", pcnn::KernelData::packed);
  CHECK(packed.identity == full.identity);
  CHECK(packed.files->weights == full.files->weights);
  CHECK(packed.files->patterns == full.files->patterns);
  CHECK(packed.files->pattern_config == full.files->pattern_config);
  REQUIRE(packed.layers.size() == full.layers.size());
  for (std::size_t i = 0; i < packed.layers.size(); ++i) {
    pcnn::SpmLayer l = packed.layers[i];
    INFO("layer " << l.name);
    CHECK_FALSE(packed.is_decoded(i));
    CHECK_FALSE(l.has_kernel_data());
    CHECK(full.layers[i].has_kernel_data());
    CHECK(l.patterns == full.layers[i].patterns);
    CHECK(l.weight_offset == full.layers[i].weight_offset);
    CHECK(l.pattern_offset == full.layers[i].pattern_offset);
    CHECK_THROWS_AS(l.validate(), pcnn::Error);  // no per-kernel data to validate
    pcnn::decode_kernel_data(l, *packed.files);
    CHECK(l.nonzeros == full.layers[i].nonzeros);
    CHECK(l.kernel_index == full.layers[i].kernel_index);
    CHECK(l.nonzeros == images.layers[i].nonzeros);  // as written
  }
  // A layer whose regions the files do not hold is refused, not read past.
  pcnn::SpmLayer beyond = packed.layers[3];
  beyond.weight_offset = packed.files->weights.size();
  CHECK_THROWS_WITH(pcnn::decode_kernel_data(beyond, *packed.files),
                    "layer 'd': its image regions lie beyond the image files");
}

TEST_CASE("a packed read refuses an SPM index at or beyond V with the decoded read's message",
          "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  const pcnn::SpmLayer& b = images.layers[1];  // V = 5, 3 index bits
  REQUIRE(b.num_patterns() == 5);
  REQUIRE(b.index_bits() == 3);
  const std::int64_t last = b.geom.kernel_count() - 1;
  int case_number = 0;
  for (const std::int64_t kernel : {std::int64_t{0}, std::int64_t{17}, last}) {
    for (const std::uint32_t value : {4u, 5u, 7u}) {
      INFO("kernel " << kernel << " index " << value);
      const std::string dir = tmp / ("set-" + std::to_string(case_number++));
      pcnn::write_model_images(images, dir);
      store_index(dir, images.layers[1], 1, kernel, value);
      const std::string decoded = error_of(dir, pcnn::KernelData::decoded);
      CHECK(error_of(dir, pcnn::KernelData::packed) == decoded);
      if (value < 5) {
        CHECK(decoded.empty());  // a valid index, read back as stored
        const pcnn::ModelImages m = pcnn::read_model_images(dir);
        CHECK(m.layers[1].kernel_index[static_cast<std::size_t>(kernel)] == value);
      } else {
        CHECK(decoded == dir + "/manifest.json: layer 'b': SPM index beyond the pattern table");
      }
    }
  }
}

TEST_CASE("a packed read refuses every corrupted byte and bad file as the decoded read does",
          "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  struct Damage {
    const char* file;
    std::uint64_t at;  // byte to flip; beyond the end: cut the file to `at` bytes
  };
  const pcnn::SpmLayer& a = images.layers[0];
  pcnn::write_model_images(images, tmp / "clean");
  const std::uint64_t wsize = pcnn_test::file_bytes(tmp / "clean/weights.bin").size();
  for (const Damage& d : {Damage{"weights.bin", 1}, Damage{"weights.bin", wsize - 1},
                          Damage{"patterns.bin", a.pattern_offset + 2},
                          Damage{"pattern_config.bin", 3}, Damage{"pattern_config.bin", 20},
                          Damage{"weights.bin", wsize + 100}, Damage{"manifest.json", 40}}) {
    INFO(d.file << " at " << d.at);
    const std::string dir = tmp / (std::string(d.file) + "-" + std::to_string(d.at));
    pcnn::write_model_images(images, dir);
    const std::string path = dir + "/" + d.file;
    std::vector<std::uint8_t> bytes = pcnn_test::file_bytes(path);
    if (d.at >= bytes.size())
      bytes.resize(bytes.size() / 2);  // truncated
    else
      bytes[d.at] ^= 0x21;
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    const std::string decoded = error_of(dir, pcnn::KernelData::decoded);
    INFO(decoded);
    CHECK_FALSE(decoded.empty());
    CHECK(decoded.find('\n') == std::string::npos);
    CHECK(error_of(dir, pcnn::KernelData::packed) == decoded);
  }
}

TEST_CASE("a packed layer simulates as the decoded one, also when the host lowers it",
          "[sim][images]") {
  TempDir tmp;
  std::mt19937_64 rng(43);
  pcnn::ModelImages images;
  images.model_name = "packed-sim";
  pcnn::ConvGeometry g;
  g.in_channels = 12;
  g.out_channels = 9;
  g.in_h = g.in_w = 7;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 3, 6, true, rng, "pruned"));
  g.group = 3;  // grouped: the host runs it as one pass per group
  images.layers.push_back(pcnn::make_dense_layer_with_geometry(g, false, rng, "grouped"));
  for (int i = 0; i < 2; ++i) images.layers[i].index = i;
  pcnn::write_model_images(images, tmp / "img");
  const pcnn::ModelImages full = pcnn::read_model_images(tmp / "img");
  const pcnn::ModelImages packed = pcnn::read_model_images(tmp / "img", pcnn::KernelData::packed);
  std::vector<pcnn::LayerJob> decoded_jobs, packed_jobs;
  for (std::size_t i = 0; i < 2; ++i) {
    const std::vector<std::int8_t> input =
        pcnn::random_activations(g.input_elements(), 0.6, false, rng);
    decoded_jobs.push_back({full.layers[i], input, full.files});
    packed_jobs.push_back({packed.layers[i], input, packed.files});
  }
  pcnn::SimOptions opt;
  opt.timing = pcnn::Timing::lt;
  const std::vector<pcnn::LayerResult> want =
      pcnn::simulate_in_child(decoded_jobs, pcnn::ArchConfig{}, opt);
  const std::vector<pcnn::LayerResult> got =
      pcnn::simulate_in_child(packed_jobs, pcnn::ArchConfig{}, opt);
  REQUIRE(got.size() == 2);
  CHECK(want[1].stats.lowering.find("groups") != std::string::npos);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO("layer " << i);
    CHECK(got[i].output == want[i].output);
    CHECK(pcnn::stats_to_json(got[i].stats) == pcnn::stats_to_json(want[i].stats));
    CHECK(got[i].module_stats == want[i].module_stats);
  }
}

TEST_CASE("pcnn-sim run --all --no-dense refuses an SPM index beyond V in one line",
          "[image][cli]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "img");
  const std::string sim = pcnn_test::binary("pcnn-sim") + " run " + tmp / "img";
  const pcnn_test::Run clean = pcnn_test::run_command(sim + " --all --no-dense --timing lt");
  INFO(clean.out);
  CHECK(clean.status == 0);
  store_index(tmp / "img", images.layers[1], 1, 3, 6);
  for (const std::string options : {" --all --no-dense", " --all --dense-cache off"}) {
    const pcnn_test::Run r = pcnn_test::run_command(sim + options);
    INFO(options << ": " << r.out);
    CHECK(r.status > 0);
    CHECK(r.out == "pcnn-sim: " + tmp / "img/manifest.json" +
                       ": layer 'b': SPM index beyond the pattern table\n");
  }
}
