#include "pcnn/sim/tensor_file.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/tensor_limit.hpp"

namespace pcnn {

namespace {
constexpr char kMagic[4] = {'P', 'C', 'N', 'T'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeader = 20;

std::uint32_t get32(const std::vector<char>& b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}
void put32(std::string& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

Int8Tensor read_tensor_file(const std::string& path) {
  const char* what = "input tensor file";
  // The header first: its size is checked before the values are read.
  const InputFileHead head = read_input_head(path, what, kHeader);
  const std::vector<char> b(head.bytes.begin(), head.bytes.end());
  if (b.size() < kHeader) throw Error(path, "truncated tensor header");
  if (std::memcmp(b.data(), kMagic, 4) != 0) throw Error(path, "not a pcnn tensor file (bad magic)");
  if (get32(b, 4) != kVersion)
    throw Error(path, "unknown tensor file version " + std::to_string(get32(b, 4)));
  const std::uint32_t c = get32(b, 8), h = get32(b, 12), w = get32(b, 16);
  if (c == 0 || h == 0 || w == 0 || c > 1u << 20 || h > 1u << 20 || w > 1u << 20)
    throw Error(path, "tensor dimensions out of range");
  const std::uint64_t count = static_cast<std::uint64_t>(c) * h * w;
  check_tensor_shape(path, "tensor", {c, h, w});
  if (head.size - kHeader != count)
    throw Error(path, "expected " + std::to_string(count) +
                          " int8 values after the header, found " +
                          std::to_string(head.size - kHeader));
  const std::string all = read_input_file(path, what, kHeader + count);
  if (all.size() != kHeader + count) throw Error(path, "changed while it was read");
  Int8Tensor t;
  t.c = static_cast<int>(c);
  t.h = static_cast<int>(h);
  t.w = static_cast<int>(w);
  t.data.resize(count);
  std::memcpy(t.data.data(), all.data() + kHeader, count);
  return t;
}

void write_tensor_file(const std::string& path, const Int8Tensor& t) {
  std::string b(kMagic, 4);
  put32(b, kVersion);
  put32(b, static_cast<std::uint32_t>(t.c));
  put32(b, static_cast<std::uint32_t>(t.h));
  put32(b, static_cast<std::uint32_t>(t.w));
  b.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  write_output_file(path, b, "the tensor file");
}

}  // namespace pcnn
