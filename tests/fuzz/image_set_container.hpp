// One fuzz input holds a whole image set (docs/image-format.md): the manifest and
// the three binaries, separated by kImageSetSeparator. A file whose section is
// missing is not written, so missing files are exercised too.
//
// The manifest carries CRC-32s of every file and of itself, which random
// mutation almost never gets right; when the first byte of the input is odd the
// target rewrites those fields to match, so the decoding code behind the
// checksum checks is reached, and when it is even the checksums are left as they
// are, so the checks themselves are fuzzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn::fuzz {

inline constexpr char kImageSetSeparator[] = "\n--pcnn-fuzz-file--\n";
inline constexpr const char* kImageSetFiles[] = {"manifest.json", "weights.bin", "patterns.bin",
                                                 "pattern_config.bin"};

struct ImageSetInput {
  bool fix_checksums = false;
  std::vector<std::string> sections;  // up to 4, in kImageSetFiles order
};

ImageSetInput split_image_set_input(const std::uint8_t* data, std::size_t size);

// Writes the sections into dir (which exists and is empty), fixing the manifest's
// checksum fields when asked and when the manifest is a JSON object.
void write_image_set_input(const ImageSetInput& input, const std::string& dir);

// The inverse of split_image_set_input, for the seed generator.
std::string join_image_set_input(bool fix_checksums, const std::vector<std::string>& sections);

}  // namespace pcnn::fuzz
