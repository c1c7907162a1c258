// The pruner's image files are what the simulator runs: a layer read from an
// image set runs from the files' bytes (copied into DRAM at the manifest's
// offsets), so one flipped SPM index bit in patterns.bin (with recomputed
// checksums) changes the simulated output exactly where it changes the golden
// convolution of the layer decoded from the same files.
#include <catch2/catch.hpp>

#include <bitset>
#include <random>

#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/simulate.hpp"
#include "prune_test_support.hpp"

namespace {

std::vector<std::size_t> differences(const std::vector<std::int8_t>& a,
                                     const std::vector<std::int8_t>& b) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("one flipped SPM index bit in patterns.bin changes the output where the golden's does",
          "[sim][images]") {
  std::mt19937_64 rng(21);
  pcnn::ConvGeometry g;
  g.in_channels = 24;
  g.out_channels = 70;  // two tiles
  g.in_h = g.in_w = 8;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  pcnn::ModelImages original;
  original.model_name = "flip";
  original.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 16, false, rng, "conv"));
  const std::vector<std::int8_t> input =
      pcnn::random_activations(g.input_elements(), 1.0, false, rng);

  // The same layer with one bit of one kernel's 4-bit index flipped (V = 16,
  // so every index is valid), written by the image writer, which recomputes
  // the checksums.
  pcnn::ModelImages flipped = original;
  const std::int64_t kernel = 66 * g.in_channels + 13;  // output channel 66: the second tile
  flipped.layers[0].kernel_index[static_cast<std::size_t>(kernel)] ^= 1u << 2;

  pcnn_test::TempDir tmp;
  pcnn::write_model_images(original, tmp / "a");
  pcnn::write_model_images(flipped, tmp / "b");
  const std::vector<std::uint8_t> pa = pcnn_test::file_bytes(tmp / "a/patterns.bin");
  const std::vector<std::uint8_t> pb = pcnn_test::file_bytes(tmp / "b/patterns.bin");
  REQUIRE(pa.size() == pb.size());
  std::size_t bits = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) bits += std::bitset<8>(pa[i] ^ pb[i]).count();
  REQUIRE(bits == 1);
  CHECK(pcnn_test::file_bytes(tmp / "a/weights.bin") ==
        pcnn_test::file_bytes(tmp / "b/weights.bin"));

  const pcnn::ModelImages a = pcnn::read_model_images(tmp / "a");
  const pcnn::ModelImages b = pcnn::read_model_images(tmp / "b");
  const std::vector<std::int8_t> golden_a = pcnn::golden_conv_layer(a.layers[0], input);
  const std::vector<std::int8_t> golden_b = pcnn::golden_conv_layer(b.layers[0], input);
  const std::vector<std::size_t> changed = differences(golden_a, golden_b);
  REQUIRE(!changed.empty());
  const std::size_t plane = static_cast<std::size_t>(g.out_h()) * g.out_w();
  for (std::size_t i : changed) CHECK(i / plane == 66);  // only the flipped kernel's channel

  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    pcnn::SimOptions opt;
    opt.act_mode = mode;
    const pcnn::LayerJob ja{a.layers[0], input, a.files};
    const pcnn::LayerJob jb{b.layers[0], input, b.files};
    const std::vector<std::int8_t> sim_a =
        pcnn::simulate_in_child({ja}, pcnn::ArchConfig{}, opt)[0].output;
    const std::vector<std::int8_t> sim_b =
        pcnn::simulate_in_child({jb}, pcnn::ArchConfig{}, opt)[0].output;
    CHECK(sim_a == golden_a);
    CHECK(sim_b == golden_b);
    CHECK(differences(sim_a, sim_b) == changed);
    // The datapath follows the files, not the decoded layer: the original
    // layer description with the flipped files computes the flipped result.
    const pcnn::LayerJob mixed{a.layers[0], input, b.files};
    CHECK(pcnn::simulate_in_child({mixed}, pcnn::ArchConfig{}, opt)[0].output == golden_b);
  }
}

TEST_CASE("a layer whose regions lie beyond its image files is refused", "[sim][images]") {
  std::mt19937_64 rng(22);
  pcnn::ConvGeometry g;
  g.in_channels = 8;
  g.out_channels = 8;
  g.in_h = g.in_w = 6;
  pcnn::ModelImages images;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 16, false, rng, "conv"));
  auto files = std::make_shared<pcnn::ImageFiles>(pcnn::encode_image_files(images));
  files->patterns.resize(files->patterns.size() - 1);  // one byte short
  const pcnn::LayerJob job{images.layers[0],
                           pcnn::random_activations(g.input_elements(), 0.5, false, rng), files};
  CHECK_THROWS_WITH(pcnn::simulate_in_child({job}, pcnn::ArchConfig{}),
                    Catch::Contains("layer 'conv'") && Catch::Contains("beyond the image files"));
}
