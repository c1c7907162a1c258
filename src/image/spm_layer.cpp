#include "pcnn/image/spm_layer.hpp"

#include <algorithm>
#include <cstring>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {

// The little-endian 64-bit window at byte `at` of a stream of `size` bytes;
// near the end only the stream's own bytes are read (the rest read as zero).
std::uint64_t load_window(const std::uint8_t* data, std::size_t size, std::size_t at) {
  std::uint64_t window = 0;
  if (at + 8 <= size) {
    std::memcpy(&window, data + at, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    window = __builtin_bswap64(window);
#endif
    return window;
  }
  for (std::size_t b = size; b-- > at;) window = window << 8 | data[b];
  return window;
}

void store_window(std::uint8_t* data, std::size_t size, std::size_t at, std::uint64_t window) {
  if (at + 8 <= size) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    window = __builtin_bswap64(window);
#endif
    std::memcpy(data + at, &window, 8);
    return;
  }
  for (std::size_t b = at; b < size; ++b, window >>= 8) data[b] = static_cast<std::uint8_t>(window);
}

}  // namespace

int ceil_log2(std::uint32_t v) {
  int bits = 0;
  while ((std::uint64_t{1} << bits) < v) ++bits;
  return bits;
}

int SpmLayer::index_bits() const { return ceil_log2(static_cast<std::uint32_t>(patterns.size())); }

int SpmLayer::kernels_per_row() const { return std::max(1, kernel_register_words / n); }

int SpmLayer::row_bytes() const { return std::max(kernel_register_words, n); }

std::uint64_t weight_address(const SpmLayer& layer, std::int64_t kernel) {
  const std::int64_t per_row = layer.kernels_per_row();
  return static_cast<std::uint64_t>(kernel / per_row) * layer.row_bytes() +
         static_cast<std::uint64_t>(kernel % per_row) * layer.n;
}

void write_bit_field(std::uint8_t* data, std::size_t size_bytes, std::uint64_t pos, int bits,
                     std::uint32_t value) {
  if (bits < 0 || bits > 32) throw Error("write_bit_field: width out of range");
  if (pos + static_cast<std::uint64_t>(bits) > static_cast<std::uint64_t>(size_bytes) * 8)
    throw Error("write_bit_field: field beyond the end of the stream");
  if (bits == 0) return;
  // The field's bytes as one 64-bit window (at most 5 bytes for 32 bits), the
  // field replaced under a mask, the bytes written back.
  const std::size_t first = pos / 8, last = (pos + static_cast<std::size_t>(bits) - 1) / 8;
  std::uint64_t window = 0;
  for (std::size_t b = last + 1; b-- > first;) window = window << 8 | data[b];
  const int shift = static_cast<int>(pos % 8);
  const std::uint64_t mask = ((std::uint64_t{1} << bits) - 1) << shift;
  window = (window & ~mask) | ((static_cast<std::uint64_t>(value) << shift) & mask);
  for (std::size_t b = first; b <= last; ++b, window >>= 8)
    data[b] = static_cast<std::uint8_t>(window & 0xffu);
}

std::vector<std::uint8_t> pack_bits(const std::vector<std::uint32_t>& values, int bits) {
  if (bits < 0 || bits > 32) throw Error("pack_bits: width out of range");
  std::vector<std::uint8_t> out((values.size() * static_cast<std::size_t>(bits) + 7) / 8, 0);
  for (std::size_t i = 0; i < values.size(); ++i)
    write_bit_field(out.data(), out.size(), static_cast<std::uint64_t>(i) * bits, bits, values[i]);
  return out;
}

std::uint32_t unpack_bits(const std::uint8_t* data, std::size_t size_bytes, std::int64_t i,
                          int bits) {
  return read_bit_field(data, size_bytes,
                        static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(bits), bits);
}

void unpack_bits_run(const std::uint8_t* data, std::size_t size_bytes, std::int64_t first,
                     std::int64_t count, int bits, std::uint32_t* out) {
  if (bits < 0 || bits > 32) throw Error("unpack_bits: width out of range");
  if (count <= 0) return;
  const std::uint64_t begin = static_cast<std::uint64_t>(first) * static_cast<std::uint64_t>(bits);
  const std::uint64_t end = begin + static_cast<std::uint64_t>(count) * bits;
  if (first < 0 || end > static_cast<std::uint64_t>(size_bytes) * 8)
    throw Error("unpack_bits: index beyond the end of the stream");
  if (bits == 0) {
    std::fill(out, out + count, 0u);
    return;
  }
  // Each 64-bit window, loaded at the byte of the next value, serves every
  // whole value in it (14 at 4 bits).
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  std::uint64_t pos = begin;
  for (std::int64_t i = 0; i < count;) {
    std::uint64_t window = load_window(data, size_bytes, static_cast<std::size_t>(pos / 8));
    const int shift = static_cast<int>(pos % 8);
    window >>= shift;
    const std::int64_t whole = std::min<std::int64_t>(count - i, (64 - shift) / bits);
    for (std::int64_t k = 0; k < whole; ++k, window >>= bits)
      out[i + k] = static_cast<std::uint32_t>(window & mask);
    i += whole;
    pos += static_cast<std::uint64_t>(whole) * bits;
  }
}

std::uint32_t read_bit_field(const std::uint8_t* data, std::size_t size_bytes, std::uint64_t pos,
                             int bits) {
  if (bits < 0 || bits > 32) throw Error("read_bit_field: width out of range");
  if (pos + static_cast<std::uint64_t>(bits) > static_cast<std::uint64_t>(size_bytes) * 8)
    throw Error("unpack_bits: index beyond the end of the stream");
  if (bits == 0) return 0;
  // The value's bytes, LSB first, as one 64-bit window (at most 5 bytes for 32 bits).
  const std::size_t first = pos / 8, last = (pos + static_cast<std::size_t>(bits) - 1) / 8;
  std::uint64_t window = 0;
  for (std::size_t b = last + 1; b-- > first;) window = window << 8 | data[b];
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  return static_cast<std::uint32_t>((window >> (pos % 8)) & mask);
}

std::uint64_t SpmLayer::weight_image_bytes() const {
  const std::int64_t rows = (geom.kernel_count() + kernels_per_row() - 1) / kernels_per_row();
  return static_cast<std::uint64_t>(rows * row_bytes());
}

std::vector<std::uint8_t> SpmLayer::weight_image() const {
  const std::int64_t kernels = geom.kernel_count();
  std::vector<std::uint8_t> image(static_cast<std::size_t>(weight_image_bytes()), 0);
  for (std::int64_t k = 0; k < kernels; ++k) {
    const std::uint64_t addr = weight_address(*this, k);
    for (int i = 0; i < n; ++i) image[addr + i] = static_cast<std::uint8_t>(nonzeros[k * n + i]);
  }
  return image;
}

std::vector<std::uint8_t> SpmLayer::pattern_image() const {
  return pack_bits(kernel_index, index_bits());
}

std::vector<std::int8_t> SpmLayer::dense_weights() const {
  const int K = geom.kernel_size();
  const std::int64_t kernels = geom.kernel_count();
  std::vector<std::int8_t> dense(static_cast<std::size_t>(kernels * K), 0);
  for (std::int64_t k = 0; k < kernels; ++k) {
    if (!pattern_pruned) {  // stored dense: n == K values in position order
      for (int p = 0; p < K; ++p) dense[k * K + p] = nonzeros[k * K + p];
      continue;
    }
    const std::uint32_t mask = patterns[kernel_index[k]];
    int i = 0;
    for (int p = 0; p < K; ++p) {
      if ((mask >> p) & 1u) dense[k * K + p] = nonzeros[k * n + i++];
    }
  }
  return dense;
}

SpmLayer dense_equivalent(const SpmLayer& layer) {
  SpmLayer dense = layer;
  dense.pattern_pruned = false;
  dense.n = layer.geom.kernel_size();
  dense.patterns.clear();
  dense.kernel_index.clear();
  const std::vector<std::int8_t> weights = layer.dense_weights();
  dense.nonzeros.assign(weights.begin(), weights.end());
  return dense;
}

void SpmLayer::validate() const {
  validate_parameters();
  const std::string where = "layer '" + name + "'";
  const std::int64_t kernels = geom.kernel_count();
  if (pattern_pruned) {
    if (static_cast<std::int64_t>(kernel_index.size()) != kernels)
      throw Error(where, "kernel index count does not match the shape");
    for (std::uint32_t idx : kernel_index)
      if (idx >= patterns.size()) throw Error(where, "SPM index beyond the pattern table");
  }
  if (static_cast<std::int64_t>(nonzeros.size()) != kernels * n)
    throw Error(where, "non-zero count does not match the shape");
}

void SpmLayer::validate_parameters() const {
  const std::string where = "layer '" + name + "'";
  const int K = geom.kernel_size();
  if (geom.in_channels <= 0 || geom.out_channels <= 0 || geom.in_h <= 0 || geom.in_w <= 0)
    throw Error(where, "empty shape");
  if (geom.group <= 0 || geom.in_channels % geom.group != 0)
    throw Error(where, "group does not divide the input channels");
  if (geom.out_h() <= 0 || geom.out_w() <= 0) throw Error(where, "kernel larger than input");
  if (n < 1 || n > K) throw Error(where, "n outside 1..K");
  if (pattern_pruned) {
    if (K > 16) throw Error(where, "pattern masks need K <= 16");
    if (patterns.empty()) throw Error(where, "no patterns");
    for (std::uint16_t m : patterns) {
      if (m >> K) throw Error(where, "pattern mask has bits beyond K");
      if (__builtin_popcount(m) != n) throw Error(where, "pattern mask without exactly n ones");
    }
  } else if (n != K) {
    throw Error(where, "a dense layer must have n = K");
  }
  const auto M = static_cast<std::size_t>(geom.out_channels);
  if (weight_scale.size() != M || bias.size() != M || requant.size() != M)
    throw Error(where, "per-channel parameter count does not match the output channels");
  for (const Requant& r : requant)
    if (r.multiplier < (1 << 30) || r.shift < -31 || r.shift > 31)
      throw Error(where, "requantisation multiplier or shift out of range");
}

void copy_bit_field(std::uint8_t* dst, std::size_t dst_size_bytes, std::uint64_t dst_pos,
                    const std::uint8_t* src, std::size_t src_size_bytes, std::uint64_t src_pos,
                    std::uint64_t count) {
  const auto beyond = [count](std::uint64_t pos, std::size_t size) {
    const std::uint64_t bits = static_cast<std::uint64_t>(size) * 8;
    return pos > bits || count > bits - pos;
  };
  if (beyond(src_pos, src_size_bytes)) throw Error("copy_bit_field: source beyond its stream");
  if (beyond(dst_pos, dst_size_bytes)) throw Error("copy_bit_field: destination beyond its stream");
  // A step of up to 56 bits plus a shift of up to 7 fits one 64-bit window on
  // either side.
  constexpr std::uint64_t kStep = 56;
  while (count > 0) {
    const std::uint64_t piece = std::min(count, kStep);
    const std::uint64_t mask = (std::uint64_t{1} << piece) - 1;
    const std::size_t from = static_cast<std::size_t>(src_pos / 8);
    const std::uint64_t value = (load_window(src, src_size_bytes, from) >> (src_pos % 8)) & mask;
    const std::size_t to = static_cast<std::size_t>(dst_pos / 8);
    const int shift = static_cast<int>(dst_pos % 8);
    const std::uint64_t window = load_window(dst, dst_size_bytes, to);
    store_window(dst, dst_size_bytes, to, (window & ~(mask << shift)) | value << shift);
    src_pos += piece;
    dst_pos += piece;
    count -= piece;
  }
}

}  // namespace pcnn
