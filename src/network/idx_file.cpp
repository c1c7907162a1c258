#include "pcnn/network/idx_file.hpp"

#include <zlib.h>

#include <filesystem>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"

namespace pcnn {

namespace {

bool is_gzip(const std::vector<std::uint8_t>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// The whole gzip stream, at most kMaxIdxBytes of output.
std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    throw Error(path, "cannot start gzip decompression");
  std::vector<std::uint8_t> out;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= kMaxIdxBytes) {
      inflateEnd(&zs);
      throw Error(path, "decompresses to more than " + std::to_string(kMaxIdxBytes >> 20) +
                            " MiB, larger than any idx image set this reads");
    }
    const std::size_t used = out.size();
    out.resize(used + (std::size_t{1} << 20));
    zs.next_out = out.data() + used;
    zs.avail_out = static_cast<uInt>(out.size() - used);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    // No progress with every input byte used: the stream ended before its end marker.
    const bool truncated = rc == Z_BUF_ERROR && zs.avail_in == 0;
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string why = truncated ? "truncated gzip data" : "corrupt gzip data";
      if (!truncated && zs.msg) why += std::string(" (") + zs.msg + ")";
      inflateEnd(&zs);
      throw Error(path, why);
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace

IdxArray read_idx_file(const std::string& path) {
  std::vector<std::uint8_t> bytes = read_input_bytes(path, "the idx file", kMaxIdxBytes);
  if (is_gzip(bytes)) bytes = gunzip(bytes, path);
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    throw Error(path, "not an idx file (it does not start with two zero bytes)");
  if (bytes[2] != 0x08)
    throw Error(path, "idx element type 0x" + std::string(1, "0123456789abcdef"[bytes[2] >> 4]) +
                          std::string(1, "0123456789abcdef"[bytes[2] & 15]) +
                          " is not unsigned byte (0x08), the only type read");
  const int ndim = bytes[3];
  if (ndim < 1) throw Error(path, "idx header has no dimensions");
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(ndim);
  if (bytes.size() < header)
    throw Error(path, "truncated idx header (" + std::to_string(ndim) + " dimensions need " +
                          std::to_string(header) + " bytes, the file has " +
                          std::to_string(bytes.size()) + ")");
  IdxArray a;
  std::uint64_t elements = 1;
  for (int d = 0; d < ndim; ++d) {
    const std::uint8_t* p = bytes.data() + 4 + 4 * d;
    const std::uint64_t n = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                            (std::uint64_t{p[2]} << 8) | std::uint64_t{p[3]};
    a.dims.push_back(static_cast<std::int64_t>(n));
    elements *= n;
    if (elements > kMaxIdxBytes)
      throw Error(path,
                  "idx header declares more than " + std::to_string(kMaxIdxBytes) + " values");
  }
  if (bytes.size() - header != elements)
    throw Error(path, "idx data is " + std::to_string(bytes.size() - header) +
                          " bytes, its header declares " + std::to_string(elements) +
                          (bytes.size() - header < elements ? " (truncated)" : ""));
  a.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

LabelledImages read_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  IdxArray images = read_idx_file(images_path);
  IdxArray labels = read_idx_file(labels_path);
  if (images.dims.size() != 3)
    throw Error(images_path, "has " + std::to_string(images.dims.size()) +
                                 " dimensions; images are [N][H][W] (3)");
  if (labels.dims.size() != 1)
    throw Error(labels_path,
                "has " + std::to_string(labels.dims.size()) + " dimensions; labels are [N] (1)");
  if (images.dims[0] != labels.dims[0])
    throw Error(labels_path, "holds " + std::to_string(labels.dims[0]) + " labels for the " +
                                 std::to_string(images.dims[0]) + " images of " + images_path);
  if (images.dims[0] == 0) throw Error(images_path, "holds no images");
  LabelledImages set;
  set.count = images.dims[0];
  set.height = images.dims[1];
  set.width = images.dims[2];
  set.pixels = std::move(images.values);
  set.labels = std::move(labels.values);
  set.images_path = images_path;
  set.labels_path = labels_path;
  return set;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  std::error_code ec;
  for (const std::string& name : {stem + ".gz", stem}) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (std::filesystem::exists(path, ec)) return path;
  }
  if (!std::filesystem::is_directory(dir, ec)) throw Error(dir, "no such dataset folder");
  throw Error(dir, "has neither " + stem + ".gz nor " + stem);
}

}  // namespace pcnn
