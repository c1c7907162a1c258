// Reading an image set for one layer (pcnn-sim run --layer): that layer is
// rebuilt exactly as a full read rebuilds it, the others keep their checked
// parameters only, every bad manifest gives the full read's message, and of
// the image files only the layer's regions are read and checked: a corrupted
// byte in another layer's region does not stop it, one in its own does.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"
#include "prune_test_support.hpp"
#include "pruned_classifier.hpp"

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
  const std::uint32_t crc = crc_of(pcnn::json_text(m), 0);  // the identity is the body's CRC
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
    // The files keep their sizes (the DRAM layout depends on them), but only
    // this layer's regions were read: the other layers' bytes are zero.
    REQUIRE(one.files->weights.size() == full.files->weights.size());
    REQUIRE(one.files->patterns.size() == full.files->patterns.size());
    REQUIRE(one.files->pattern_config.size() == full.files->pattern_config.size());
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
      const std::uint64_t wsize =
          (a.geom.kernel_count() + a.kernels_per_row() - 1) / a.kernels_per_row() * a.row_bytes();
      const auto wfrom = one.files->weights.begin() + static_cast<std::ptrdiff_t>(a.weight_offset);
      const std::vector<std::uint8_t> wpart(wfrom, wfrom + static_cast<std::ptrdiff_t>(wsize));
      const auto ffrom = full.files->weights.begin() + static_cast<std::ptrdiff_t>(a.weight_offset);
      CHECK((wpart == std::vector<std::uint8_t>(
                          ffrom, ffrom + static_cast<std::ptrdiff_t>(wsize))) == (i == want));
      CHECK((wpart == std::vector<std::uint8_t>(wsize, 0)) == (i != want));
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

TEST_CASE("a one-layer read refuses every bad manifest with the full read's message", "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  using Edit = std::function<void(const std::string& dir)>;
  auto manifest = [](std::function<void(nlohmann::json&)> e) -> Edit {
    return [e](const std::string& dir) { edit_manifest(dir, e); };
  };
  const std::vector<std::pair<std::string, Edit>> cases = {
      {"magic of pattern_config.bin",
       [](const std::string& dir) {
         std::fstream f(dir + "/pattern_config.bin",
                        std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(3);
         f.put('\x5a');
       }},
      {"weights.bin one byte longer",
       [](const std::string& dir) {
         std::ofstream(dir + "/weights.bin", std::ios::app | std::ios::binary) << 'x';
       }},
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
      {"region of layer b over layer a's",
       manifest([](nlohmann::json& m) { m["layers"][1]["weights"]["offset"] = 0; })},
      {"region checksum not hex",
       manifest([](nlohmann::json& m) { m["layers"][1]["patterns"]["crc32"] = "0000000g"; })},
      {"repeated name", manifest([](nlohmann::json& m) { m["layers"][2]["name"] = "a"; })},
  };
  for (std::size_t c = 0; c < cases.size(); ++c) {
    INFO(cases[c].first);
    const std::string dir = tmp / ("set-" + std::to_string(c));
    pcnn::write_model_images(images, dir);
    cases[c].second(dir);
    const std::string expected = error_of(dir, nullptr);
    INFO(expected);
    CHECK_FALSE(expected.empty());
    if (c >= 3) CHECK(expected.find("identity") == std::string::npos);  // the field's own check
    for (const std::string layer : {"a", "b", "c"}) CHECK(error_of(dir, &layer) == expected);
  }
  CHECK(error_of(tmp / "set-7", nullptr) ==
        tmp / "set-7/manifest.json: layers[1].weights.offset: overlaps the region of layer 'a'");
}

TEST_CASE("a corrupted byte stops the runs that need its layer, and only those", "[image]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "clean");
  struct Flip {
    const char* file;
    std::size_t layer;  // whose region the byte lies in
  };
  // Layer b has no index bits (V = 1) and c is dense, so only a has bytes in
  // patterns.bin.
  for (const Flip& flip : {Flip{"weights.bin", 0}, Flip{"weights.bin", 1}, Flip{"weights.bin", 2},
                           Flip{"patterns.bin", 0}, Flip{"pattern_config.bin", 0},
                           Flip{"pattern_config.bin", 1}, Flip{"pattern_config.bin", 2}}) {
    const std::string name = images.layers[flip.layer].name;
    INFO(flip.file << " in layer " << name);
    const std::string dir = tmp / (std::string(flip.file) + "-" + name);
    pcnn::write_model_images(images, dir);
    const pcnn::SpmLayer& l = images.layers[flip.layer];
    const std::uint64_t offset = std::string(flip.file) == "weights.bin" ? l.weight_offset
                                 : std::string(flip.file) == "patterns.bin"
                                     ? l.pattern_offset
                                     : l.pattern_config_offset;
    {
      std::fstream f(dir + "/" + flip.file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(offset + 1));
      const char old = static_cast<char>(f.get());
      f.seekp(static_cast<std::streamoff>(offset + 1));
      f.put(static_cast<char>(old ^ 0x10));
    }
    const std::string needed = error_of(dir, &name);
    CHECK(needed.rfind(dir + "/" + flip.file + ": layer '" + name +
                           "': checksum mismatch in bytes " + std::to_string(offset) + "..",
                       0) == 0);
    CHECK(needed.find(": the file is corrupted") != std::string::npos);
    CHECK(error_of(dir, nullptr) == needed);  // the whole network needs every layer
    for (std::size_t other = 0; other < images.layers.size(); ++other) {
      if (other == flip.layer) continue;
      const pcnn::ModelImages one = pcnn::read_model_images(dir, images.layers[other].name);
      CHECK(one.layers[other].nonzeros == images.layers[other].nonzeros);
      CHECK(one.layers[other].kernel_index == images.layers[other].kernel_index);
    }
  }
  // A byte outside every region is caught by the whole file's checksum: the
  // zeros that row-align a dense 9x9 layer (rows of 81 bytes) after layer c.
  pcnn::ModelImages padded = sample_images();
  std::mt19937_64 rng(5);
  pcnn::ConvGeometry g;
  g.in_channels = 2;
  g.out_channels = 3;
  g.in_h = g.in_w = 9;
  g.kernel_h = g.kernel_w = 9;
  padded.layers.push_back(pcnn::make_dense_layer_with_geometry(g, false, rng, "d"));
  padded.layers[3].index = 3;
  pcnn::write_model_images(padded, tmp / "padded");
  const pcnn::SpmLayer& c = padded.layers[2];
  const std::uint64_t gap = c.weight_offset + (c.geom.kernel_count() + c.kernels_per_row() - 1) /
                                                  c.kernels_per_row() * c.row_bytes();
  REQUIRE(gap < padded.layers[3].weight_offset);
  {
    std::fstream f(tmp / "padded/weights.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(gap));
    f.put('\x01');
  }
  CHECK(error_of(tmp / "padded", nullptr)
            .rfind(tmp / "padded/weights.bin: checksum mismatch outside the layers' regions", 0) ==
        0);
  for (const std::string layer : {"a", "b", "c", "d"})
    CHECK(error_of(tmp / "padded", &layer).empty());
}

TEST_CASE("pcnn-sim run --layer runs past a corrupted byte in another layer", "[image][cli]") {
  TempDir tmp;
  pcnn::ModelImages images = sample_images();
  pcnn::write_model_images(images, tmp / "img");
  {
    std::fstream f(tmp / "img/weights.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(images.layers[0].weight_offset + 2));
    f.put('\x7f');
  }
  const std::string sim = pcnn_test::binary("pcnn-sim") + " run " + tmp / "img" + " --no-dense";
  const pcnn_test::Run other = pcnn_test::run_command(sim + " --layer b");
  INFO(other.out);
  CHECK(other.status == 0);
  for (const std::string which : {" --layer a", " --all"}) {
    const pcnn_test::Run r = pcnn_test::run_command(sim + which);
    INFO(r.out);
    CHECK(r.status > 0);
    CHECK(r.out.rfind("pcnn-sim: " + tmp / "img/weights.bin: layer 'a': checksum mismatch", 0) ==
          0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
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

TEST_CASE("pcnn-sim run reads network.json for its conv layers but not the Gemm weights",
          "[image][network]") {
  TempDir tmp;
  pcnn_test::prune_small_classifier(tmp);
  const pcnn::ModelImages images = pcnn::read_model_images(tmp / "img");
  {
    std::fstream f(tmp / "img/network.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5);
    f.put('\x33');
  }
  CHECK_THROWS_WITH(pcnn::read_int8_network(tmp / "img", images.layers),
                    tmp / "img/network.bin: size or checksum differs from network.json");
  const pcnn::Int8Network net =
      pcnn::read_int8_network(tmp / "img", images.layers, pcnn::GemmWeights::skip);
  REQUIRE(net.gemm_layers.size() == 1);
  CHECK(net.gemm_layers[0].nonzeros.empty());
  CHECK(net.gemm_layers[0].geom.in_channels == 256);
  CHECK(pcnn::conv_input_signs(net, images.layers.size()) == std::vector<int>{0});
  for (const std::string which : {" --layer c1", " --all"}) {
    const pcnn_test::Run r = pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " run " +
                                                    tmp / "img --no-dense" + which);
    INFO(r.out);
    CHECK(r.status == 0);
  }
}
