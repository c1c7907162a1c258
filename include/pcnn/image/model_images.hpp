#pragma once
// The pruner's output directory: model-wide Weight SRAM, Pattern SRAM and
// Pattern Config images plus a JSON manifest. Versioned; see docs/image-format.md.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pcnn/image/image_bytes.hpp"
#include "pcnn/image/spm_layer.hpp"

namespace pcnn {

constexpr int kImageFormatVersion = 2;

// The bytes of an image set's three image files, exactly as written or read.
// After a one-layer read only the Pattern Config header and that layer's
// regions hold the files' bytes; the rest is zero (the sizes are the files').
struct ImageFiles {
  ImageBytes weights, patterns;  // megabytes: see image_bytes.hpp
  std::vector<std::uint8_t> pattern_config;
};

struct ModelImages {
  std::string model_name;                   // graph name of the source model
  std::string source_file;                  // file name of the source model (no directory)
  std::vector<SpmLayer> layers;             // in execution order
  std::string identity;                     // checksum of the manifest body; set by read/write
  std::shared_ptr<const ImageFiles> files;  // the files' bytes; set by read/write
  // Per layer: its non-zeros and SPM indices were rebuilt from the images.
  // Empty when every layer was (write, or a decoded read of all layers).
  std::vector<bool> decoded;

  bool is_decoded(std::size_t layer) const { return decoded.empty() || decoded[layer]; }
};

// The image files the writer produces for `images` (assigns the offsets first).
ImageFiles encode_image_files(ModelImages& images);

// Writes weights.bin, patterns.bin, pattern_config.bin and manifest.json into
// `dir` (written into a hidden sibling directory that is renamed onto `dir` at
// the end, so that a failure leaves nothing behind; see staging_dir.hpp), and
// sets each layer's offsets and the identity. Throws pcnn::Error naming the path.
void write_model_images(ModelImages& images, const std::string& dir);

// What a whole read keeps of the layers' per-kernel data.
enum class KernelData {
  decoded,  // every layer gets its non-zeros and SPM indices rebuilt (SpmLayer)
  packed,   // they stay in the image files only (ModelImages::files), checked
            // there as the decode checks them; decode_kernel_data() rebuilds a
            // layer when a consumer needs them (golden, dense twin, lowering)
};

// Reads a directory written by write_model_images, checks the version, the
// manifest, every layer's region checksums, Pattern Config record and SPM
// indices (each below V) and the files' checksums, and rebuilds every layer
// (with KernelData::packed: none; their `nonzeros` and `kernel_index` stay
// empty and `decoded` is false for each). Throws pcnn::Error naming the file
// (and the layer).
ModelImages read_model_images(const std::string& dir, KernelData data = KernelData::decoded);

// Rebuilds `layer`'s non-zeros and SPM indices from the image files at its
// offsets, then validates it. Only for a layer whose regions the files hold
// (any layer of a whole read); throws pcnn::Error naming the layer when its
// regions lie beyond the files or the data is inconsistent.
void decode_kernel_data(SpmLayer& layer, const ImageFiles& files);

// The same checks of the manifest (identity, every layer's parameters and
// regions, the files' sizes), but of the image files only the regions of the
// layer named `layer` are read and checked, and only that layer gets its
// non-zeros and SPM indices rebuilt: the others keep empty `nonzeros` and
// `kernel_index` (ModelImages::is_decoded). So a one-layer run reads its images
// in milliseconds, and a corrupted byte in another layer does not stop it. A
// name no layer has reads and decodes none (the caller reports the unknown layer).
ModelImages read_model_images(const std::string& dir, const std::string& layer);

// Lays the layers out in the model-wide images: each layer's weights start at a
// multiple of its row_bytes(), its SPM indices at a byte boundary.
void assign_image_offsets(ModelImages& images);

// write_model_images() without the staging: writes the four files into an
// existing directory (the caller makes the whole directory appear atomically).
void write_model_image_files(ModelImages& images, const std::string& dir);

// The names of the files an image set holds (manifest and the three images).
const std::vector<std::string>& image_set_file_names();
// Empty when `dir`/manifest.json is a regular file that parses as a manifest of
// this format; otherwise why it is not (for "refusing to replace" messages).
std::string why_not_image_set_manifest(const std::string& dir);

// Model-wide images, for the accelerator's DRAM: each layer's part starts at
// its weight_offset / pattern_offset.
ImageBytes model_weight_image(const ModelImages& images);
ImageBytes model_pattern_image(const ModelImages& images);

}  // namespace pcnn
