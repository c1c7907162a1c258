// libFuzzer target: the image set reader (manifest.json + weights.bin +
// patterns.bin + pattern_config.bin), the simulator's and the sweep's input.
// An accepted set, written again and read back, must keep its identity.
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "fuzz_scratch.hpp"
#include "image_set_container.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/image/model_images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(pcnn::fuzz::scratch_dir()) / "set";
  const fs::path copy = fs::path(pcnn::fuzz::scratch_dir()) / "copy";
  fs::remove_all(dir);
  fs::remove_all(copy);
  fs::create_directory(dir);
  pcnn::fuzz::write_image_set_input(pcnn::fuzz::split_image_set_input(data, size), dir);
  pcnn::ModelImages images;
  try {
    images = pcnn::read_model_images(dir);
  } catch (const pcnn::Error&) {
    return 0;
  }
  for (const pcnn::SpmLayer& l : images.layers) l.validate();
  fs::create_directory(copy);
  pcnn::write_model_image_files(images, copy);
  const pcnn::ModelImages back = pcnn::read_model_images(copy);
  if (back.identity != images.identity || back.layers.size() != images.layers.size()) std::abort();
  return 0;
}
