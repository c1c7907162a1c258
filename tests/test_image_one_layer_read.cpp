// Reading an image set for one layer (pcnn-sim run --layer): that layer is
// rebuilt exactly as a full read rebuilds it, the others keep their checked
// parameters only, and every bad input gives the full read's message.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

// Three layers of different storage: pattern-pruned n = 4 (V = 8), n = 1
// (V = 1, no index bits) and a dense 1x1.
pcnn::ModelImages sample_images() {
  std::mt19937_64 rng(31);
  pcnn::ModelImages images;
  images.model_name = "lazy";
  images.source_file = "lazy.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 5;
  g.out_channels = 7;
  g.in_h = g.in_w = 6;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "a"));
  g.in_channels = 7;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 1, 1, true, rng, "b"));
  g.kernel_h = g.kernel_w = 1;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
  images.layers.push_back(pcnn::make_dense_layer_with_geometry(g, false, rng, "c"));
  for (int i = 0; i < 3; ++i) images.layers[i].index = i;
  return images;
}

std::string error_of(const std::string& dir, const std::string* layer) {
  try {
    if (layer)
      pcnn::read_model_images(dir, *layer);
    else
      pcnn::read_model_images(dir);
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "";
}

std::uint32_t crc_of(const std::string& bytes, std::uint32_t crc) {
  return static_cast<std::uint32_t>(
      ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Edits the manifest and signs it again (a new identity), so that the reader
// gets past the identity check to the edited field.
void edit_manifest(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  const std::vector<std::uint8_t> text = pcnn_test::file_bytes(dir + "/manifest.json");
  nlohmann::json m = nlohmann::json::parse(text.begin(), text.end());
  edit(m);
  m.erase("identity");
  std::uint32_t crc = 0;
  for (const char* f : {"weights.bin", "patterns.bin", "pattern_config.bin"}) {
    const std::vector<std::uint8_t> b = pcnn_test::file_bytes(dir + "/" + f);
    crc = crc_of(std::string(b.begin(), b.end()), crc);
  }
  crc = crc_of(pcnn::json_text(m), crc);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc);
  m["identity"] = std::string("crc32:") + hex;
  std::ofstream(dir + "/manifest.json", std::ios::trunc) << pcnn::json_text(m) << "\n";
}

}  // namespace

TEST_CASE("a one-layer read rebuilds that layer as a full read does", "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "img");
  const pcnn::ModelImages full = pcnn::read_model_images(tmp / "img");
  CHECK(full.decoded.empty());
  for (std::size_t want = 0; want < full.layers.size(); ++want) {
    const std::string name = full.layers[want].name;
    INFO("layer " << name);
    const pcnn::ModelImages one = pcnn::read_model_images(tmp / "img", name);
    CHECK(one.identity == full.identity);
    CHECK(one.files->weights == full.files->weights);
    REQUIRE(one.layers.size() == full.layers.size());
    for (std::size_t i = 0; i < one.layers.size(); ++i) {
      const pcnn::SpmLayer& a = one.layers[i];
      const pcnn::SpmLayer& b = full.layers[i];
      CHECK(one.is_decoded(i) == (i == want));
      CHECK(a.name == b.name);
      CHECK(a.geom.kernel_count() == b.geom.kernel_count());
      CHECK(a.patterns == b.patterns);
      CHECK(a.requant.size() == b.requant.size());
      CHECK(a.weight_offset == b.weight_offset);
      if (i == want) {
        CHECK(a.nonzeros == b.nonzeros);
        CHECK(a.kernel_index == b.kernel_index);
        CHECK(a.nonzeros == images.layers[i].nonzeros);  // as written
        CHECK(a.kernel_index == images.layers[i].kernel_index);
      } else {
        CHECK(a.nonzeros.empty());
        CHECK(a.kernel_index.empty());
      }
    }
  }
  // An unknown name rebuilds nothing (the caller names the missing layer).
  const pcnn::ModelImages none = pcnn::read_model_images(tmp / "img", "nope");
  for (std::size_t i = 0; i < none.layers.size(); ++i) CHECK_FALSE(none.is_decoded(i));
}

TEST_CASE("a one-layer read refuses every bad image set with the full read's message", "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  using Edit = std::function<void(const std::string& dir)>;
  auto flip = [](const char* file) -> Edit {
    return [file](const std::string& dir) {
      std::fstream f(dir + "/" + file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(3);
      f.put('\x5a');
    };
  };
  auto manifest = [](std::function<void(nlohmann::json&)> e) -> Edit {
    return [e](const std::string& dir) { edit_manifest(dir, e); };
  };
  const std::vector<std::pair<std::string, Edit>> cases = {
      {"weights.bin flipped", flip("weights.bin")},
      {"patterns.bin flipped", flip("patterns.bin")},
      {"pattern_config.bin flipped", flip("pattern_config.bin")},
      {"manifest altered",
       [](const std::string& dir) {
         std::string t;
         {
           std::ifstream in(dir + "/manifest.json");
           t.assign(std::istreambuf_iterator<char>(in), {});
         }
         t.replace(t.find("\"relu\": true"), 12, "\"relu\":false");
         std::ofstream(dir + "/manifest.json", std::ios::trunc) << t;
       }},
      {"unknown key in layer c",
       manifest([](nlohmann::json& m) { m["layers"][2]["colour"] = "red"; })},
      {"bad mask in layer a",
       manifest([](nlohmann::json& m) { m["layers"][0]["masks"][0] = 0x1ff; })},
      {"requant shift of layer c",
       manifest([](nlohmann::json& m) { m["layers"][2]["requant_shift"][0] = 40; })},
      {"region of layer a beyond the file",
       manifest([](nlohmann::json& m) { m["layers"][0]["weights"]["offset"] = 1 << 20; })},
      {"repeated name", manifest([](nlohmann::json& m) { m["layers"][2]["name"] = "a"; })},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    INFO(cases[c].first);
    const std::string dir = tmp / ("set-" + std::to_string(c));
    pcnn::write_model_images(images, dir);
    cases[c].second(dir);
    const std::string expected = error_of(dir, nullptr);
    CHECK_FALSE(expected.empty());
    if (c >= 4) CHECK(expected.find("identity") == std::string::npos);  // the field's own check
    for (const std::string layer : {"a", "b", "c"}) CHECK(error_of(dir, &layer) == expected);
  }
}

TEST_CASE("a manifest in another layout with the same content keeps its identity", "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "img");
  const std::vector<std::uint8_t> text = pcnn_test::file_bytes(tmp / "img/manifest.json");
  const nlohmann::json m = nlohmann::json::parse(text.begin(), text.end());
  std::ofstream(tmp / "img/manifest.json", std::ios::trunc) << m.dump(4);  // no final newline
  CHECK(pcnn::read_model_images(tmp / "img", "a").identity == images.identity);
  std::ofstream(tmp / "img/manifest.json", std::ios::trunc) << m.dump();
  CHECK(pcnn::read_model_images(tmp / "img").identity == images.identity);
}
