// libFuzzer target: the sweep file reader (pcnn-sim sweep). The scratch directory
// holds a real two-layer image set "net" and an architecture file "arch.json"
// that sweep files may name, so the workload and architecture paths are reached.
#include <cstdint>
#include <cstdlib>
#include <random>

#include "fuzz_scratch.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sweep/sweep_spec.hpp"

namespace {

void write_fixture() {
  std::mt19937_64 rng(1);
  pcnn::ModelImages images;
  images.model_name = "fuzz";
  images.source_file = "fuzz.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 3;
  g.out_channels = 8;
  g.in_h = g.in_w = 6;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "conv1"));
  g.in_channels = 8;
  g.out_channels = 4;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 2, 4, false, rng, "conv2"));
  images.layers[1].index = 1;
  pcnn::write_model_images(images, pcnn::fuzz::scratch_dir() + "/net");
  const std::string arch = pcnn::arch_to_json(pcnn::ArchConfig{}).dump(2);
  pcnn::fuzz::write_scratch("arch.json", reinterpret_cast<const std::uint8_t*>(arch.data()),
                            arch.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  write_fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pcnn::fuzz::write_scratch("sweep.json", data, size);
  pcnn::SweepSpec spec;
  try {
    spec = pcnn::read_sweep_file(path);
  } catch (const pcnn::Error&) {
    return 0;
  }
  const std::size_t n = spec.point_count();
  if (n == 0 || n > pcnn::kMaxSweepPoints) std::abort();
  // Every point of an accepted sweep names a valid architecture (the reader
  // promises that up front, so a point failing later would be a bug).
  for (std::size_t i = 0; i < n && i < 64; ++i) {
    const pcnn::SweepPoint p = spec.point(i);
    (void)spec.label(p);
    (void)pcnn::arch_from_json(p.arch_json, "point");
  }
  return 0;
}
