#pragma once
// Reading a whole input file with messages that name the file and the reason.
// Only regular files are read: a FIFO, a device or a directory in place of an
// input is refused at once (it is opened with O_NONBLOCK and checked with
// fstat, so a FIFO without a writer is never waited on).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pcnn {

constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t{1} << 32;  // 4 GiB

// Throws pcnn::Error("<path>: cannot read <what>: <reason>") on any failure,
// including a file larger than max_bytes.
std::string read_input_file(const std::string& path, const std::string& what,
                            std::uint64_t max_bytes = kMaxInputFileBytes);
// The first `bytes` bytes of a file (all of it when shorter) and its size, with
// the same checks: a reader checks a header before it reads a large file.
struct InputFileHead {
  std::string bytes;
  std::uint64_t size = 0;
};
InputFileHead read_input_head(const std::string& path, const std::string& what, std::size_t bytes);

std::vector<std::uint8_t> read_input_bytes(const std::string& path, const std::string& what,
                                           std::uint64_t max_bytes = kMaxInputFileBytes);

// Reads and parses a JSON file (configuration files are small: 64 MiB at most).
// Throws pcnn::Error("<path>: not valid JSON: line L, column C: <problem>").
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// The part of a nlohmann::json exception's text after its "[json.exception...]"
// tag: "parse error at line 1, column 5: syntax error ...".
std::string json_error_text(const std::exception& e);

// Serialises JSON for an output file; strings that are not valid UTF-8 (names
// taken from user files) get U+FFFD instead of failing the whole write.
std::string json_text(const nlohmann::json& j, int indent = 2);

}  // namespace pcnn
