#pragma once
// Labelled image sets in the idx format of MNIST and Fashion-MNIST (what
// Debian's dataset-fashion-mnist installs), plain or gzip-compressed:
//   bytes 0-1 zero, byte 2 the type (0x08 = unsigned byte, the only one read),
//   byte 3 the number of dimensions, then each dimension as a big-endian
//   uint32, then the values in C order.
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn {

// The largest idx file accepted once decompressed (the 60,000 training images
// are 47 MB).
constexpr std::uint64_t kMaxIdxBytes = std::uint64_t{1} << 30;

struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> values;  // C order
};

// Reads an unsigned-byte idx file, gzip-compressed when it starts with the gzip
// magic. Throws pcnn::Error(path, ...) naming what is wrong: unreadable (with
// the system's reason), corrupt gzip, another element type, a size that
// disagrees with the header.
IdxArray read_idx_file(const std::string& path);

// N grey images of H x W pixels and their class labels.
struct LabelledImages {
  std::int64_t count = 0, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;  // [N][H][W]
  std::vector<std::uint8_t> labels;  // [N]
  std::string images_path, labels_path;
};

// An image file [N][H][W] and a label file [N] of the same N.
LabelledImages read_idx_dataset(const std::string& images_path, const std::string& labels_path);

// `stem` in `dir` as "stem.gz" or "stem" (the first that exists); throws
// pcnn::Error(dir, ...) naming both when neither does.
std::string find_idx_file(const std::string& dir, const std::string& stem);

}  // namespace pcnn
