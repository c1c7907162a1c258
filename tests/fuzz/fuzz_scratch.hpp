// Scratch files for the fuzz targets. The readers take paths, so each input is
// written to a private directory first (created once per fuzzing process and
// removed at exit).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace pcnn::fuzz {

// The process's scratch directory ($TMPDIR or /tmp), created on first use.
const std::string& scratch_dir();

// Writes size bytes to scratch_dir()/name (replacing it) and returns the path.
std::string write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size);

}  // namespace pcnn::fuzz
