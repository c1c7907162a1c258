#include "pcnn/network/input_file.hpp"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/tensor_limit.hpp"

namespace pcnn {
namespace {

// A whole image file: regular files only (a FIFO is refused, not waited on), and
// no larger than the largest image within the tensor limit could be as ASCII
// PGM/PPM (a value, up to 5 digits, and a separator each).
std::string read_image_file(const std::string& path) {
  const auto limit = static_cast<std::uint64_t>(max_tensor_values());
  return read_input_file(path, "image file", 4096 + 6 * limit);
}

std::string suffix(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string s = path.substr(dot);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string shape_text(const std::vector<std::int64_t>& s, const char* sep = "x") {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? sep : "") + std::to_string(s[i]);
  return t;
}

// The value of `key` in a .npy header dict ("{'descr': '<f4', ...}").
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& path) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) throw Error(path, "npy header has no '" + key + "'");
  auto p = header.find(':', k);
  if (p == std::string::npos) throw Error(path, "malformed npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) throw Error(path, "malformed npy header");
  const char open = header[p];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const auto e = header.find(close, p + 1);
  if (e == std::string::npos) throw Error(path, "malformed npy header");
  return header.substr(p, e - p + 1);
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  const char* what = "npy file";
  // Magic, version and header length, then the header: the array's size is
  // checked against the tensor limit before its data is read.
  InputFileHead head = read_input_head(path, what, 12);
  const std::string& start = head.bytes;
  if (start.size() < 10 || start.compare(0, 6, "\x93NUMPY") != 0)
    throw Error(path, "not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(start[6]);
  std::size_t header_len = 0, data_at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(start[8]) | static_cast<unsigned char>(start[9]) << 8;
    data_at = 10 + header_len;
  } else if (major == 2 || major == 3) {
    if (start.size() < 12) throw Error(path, "truncated npy header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(start[8 + i])) << (8 * i);
    data_at = 12 + header_len;
  } else {
    throw Error(path, "unknown npy version " + std::to_string(major));
  }
  constexpr std::size_t kMaxHeader = 1 << 20;  // numpy writes a few hundred bytes
  if (header_len > kMaxHeader)
    throw Error(path, "npy header of " + std::to_string(header_len) + " bytes is too long");
  if (data_at > head.size) throw Error(path, "truncated npy header");
  head = read_input_head(path, what, data_at);
  if (head.bytes.size() != data_at) throw Error(path, "truncated npy header");
  const std::string header = head.bytes.substr(data_at - header_len, header_len);
  const std::string descr = header_value(header, "descr", path);
  const std::string fortran = header_value(header, "fortran_order", path);
  const std::string shape_text_raw = header_value(header, "shape", path);
  if (fortran.rfind("False", 0) != 0)
    throw Error(path, "Fortran-order arrays are not supported (save with C order)");
  NpyArray a;
  int elem = 4;
  if (descr == "'<f4'") {
  } else if (descr == "'|u1'" || descr == "'<u1'") {
    a.is_uint8 = true;
    elem = 1;
  } else if (descr == "'|i1'" || descr == "'<i1'") {
    a.is_int8 = true;
    elem = 1;
  } else {
    throw Error(path, "dtype " + descr + " is not supported (float32, uint8 or int8)");
  }
  if (shape_text_raw.front() != '(') throw Error(path, "malformed npy shape " + shape_text_raw);
  std::string number;
  for (std::size_t i = 1; i < shape_text_raw.size(); ++i) {
    const char c = shape_text_raw[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      number += c;
      if (number.size() > 12) throw Error(path, "npy shape out of range");
    } else if (c == ',' || c == ')') {
      if (!number.empty()) {
        a.shape.push_back(std::stoll(number));
        number.clear();
      }
    } else if (c != ' ') {
      throw Error(path, "malformed npy shape " + shape_text_raw);
    }
  }
  const auto count = static_cast<std::uint64_t>(tensor_values(a.shape));
  check_tensor_values(path, "array of shape (" + shape_text(a.shape, ", ") + ")",
                      static_cast<std::int64_t>(count));
  if (head.size - data_at != count * elem)
    throw Error(path, "holds " + std::to_string(head.size - data_at) + " data bytes; shape (" +
                          shape_text(a.shape, ", ") + ") needs " + std::to_string(count * elem));
  const std::string b = read_input_file(path, what, data_at + count * elem);
  if (b.size() != data_at + count * elem) throw Error(path, "changed while it was read");
  a.values.resize(count);
  const char* d = b.data() + data_at;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (a.is_uint8) {
      a.values[i] = static_cast<unsigned char>(d[i]);
    } else if (a.is_int8) {
      a.values[i] = static_cast<signed char>(d[i]);
    } else {
      float f;
      std::memcpy(&f, d + 4 * i, 4);  // little endian, as the descr says
      a.values[i] = f;
    }
  }
  return a;
}

namespace {

// An image as HWC floats in [0, 1].
struct Image {
  std::int64_t h = 0, w = 0, c = 0;
  std::vector<float> hwc;
};

Image read_pnm(const std::string& path) {
  const std::string b = read_image_file(path);
  std::size_t p = 0;
  auto skip_space = [&]() {
    while (p < b.size()) {
      if (b[p] == '#') {
        while (p < b.size() && b[p] != '\n') ++p;
      } else if (std::isspace(static_cast<unsigned char>(b[p]))) {
        ++p;
      } else {
        break;
      }
    }
  };
  auto number = [&]() -> std::int64_t {
    skip_space();
    std::int64_t v = 0;
    std::size_t digits = 0;
    while (p < b.size() && std::isdigit(static_cast<unsigned char>(b[p])) && digits < 9) {
      v = v * 10 + (b[p++] - '0');
      ++digits;
    }
    if (digits == 0) throw Error(path, "malformed PGM/PPM header");
    return v;
  };
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '2' && b[1] != '3' && b[1] != '5' && b[1] != '6'))
    throw Error(path, "not a PGM/PPM file (expected P2, P3, P5 or P6)");
  const bool ascii = b[1] == '2' || b[1] == '3';
  Image im;
  im.c = (b[1] == '3' || b[1] == '6') ? 3 : 1;
  p = 2;
  im.w = number();
  im.h = number();
  const std::int64_t maxval = number();
  if (im.w < 1 || im.h < 1 || im.w > 65536 || im.h > 65536)
    throw Error(
        path, "image size " + std::to_string(im.w) + "x" + std::to_string(im.h) + " out of range");
  if (maxval < 1 || maxval > 65535) throw Error(path, "maxval must be in 1..65535");
  check_tensor_shape(path, "image (HxWxC)", {im.h, im.w, im.c});
  const std::int64_t count = im.w * im.h * im.c;
  const int bytes = maxval < 256 ? 1 : 2;
  if (!ascii && (p + 1 > b.size() || b.size() - (p + 1) < static_cast<std::size_t>(count * bytes)))
    throw Error(path, "truncated pixel data (" + std::to_string(count * bytes) + " bytes needed)");
  im.hwc.resize(static_cast<std::size_t>(count));
  if (ascii) {
    for (auto& v : im.hwc) v = static_cast<float>(number()) / static_cast<float>(maxval);
  } else {
    ++p;  // the single whitespace after maxval
    for (std::int64_t i = 0; i < count; ++i) {
      std::int64_t v = static_cast<unsigned char>(b[p + i * bytes]);
      if (bytes == 2) v = v << 8 | static_cast<unsigned char>(b[p + i * 2 + 1]);
      im.hwc[static_cast<std::size_t>(i)] = static_cast<float>(v) / static_cast<float>(maxval);
    }
  }
  for (float v : im.hwc)
    if (v > 1.0f) throw Error(path, "pixel value above maxval");
  return im;
}

Image read_png(const std::string& path, std::int64_t channels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  const std::string file = read_image_file(path);
  if (!png_image_begin_read_from_memory(&png, file.data(), file.size())) {
    const std::string why = png.message;
    png_image_free(&png);
    throw Error(path, "cannot read PNG: " + why);
  }
  // 8-bit output: the simplified API would convert 16-bit output to linear
  // light; 8-bit keeps the file's (sRGB) values, 16-bit files rounded to 8.
  png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  try {
    check_tensor_shape(
        path, "image (HxWxC)",
        {png.height, png.width, static_cast<std::int64_t>(PNG_IMAGE_SAMPLE_CHANNELS(png.format))});
  } catch (const Error&) {
    png_image_free(&png);
    throw;
  }
  Image im;
  im.h = png.height;
  im.w = png.width;
  im.c = channels == 1 ? 1 : 3;
  std::vector<unsigned char> buf(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, buf.data(), 0, nullptr)) {
    const std::string why = png.message;
    png_image_free(&png);
    throw Error(path, "cannot read PNG: " + why);
  }
  im.hwc.resize(buf.size());
  for (std::size_t i = 0; i < buf.size(); ++i) im.hwc[i] = static_cast<float>(buf[i]) / 255.0f;
  return im;
}

}  // namespace

bool is_network_input_file(const std::string& path) {
  const std::string s = suffix(path);
  return s == ".npy" || s == ".pgm" || s == ".ppm" || s == ".png";
}

std::vector<float> read_network_input(const std::string& path,
                                      const std::vector<std::int64_t>& nchw) {
  if (nchw.size() != 4 || nchw[0] != 1)
    throw Error(path, "the model input " + shape_text(nchw) + " is not batch-1 NCHW");
  const std::int64_t C = nchw[1], H = nchw[2], W = nchw[3];
  const std::string wanted = shape_text(nchw) + " (NCHW) or " + std::to_string(H) + "x" +
                             std::to_string(W) + "x" + std::to_string(C) + " (HWC)";
  std::vector<float> out;  // allocated once the file is known to fit
  auto from_hwc = [&](const std::vector<float>& hwc) {
    out.resize(static_cast<std::size_t>(C * H * W));
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t y = 0; y < H; ++y)
        for (std::int64_t x = 0; x < W; ++x)
          out[static_cast<std::size_t>((c * H + y) * W + x)] =
              hwc[static_cast<std::size_t>((y * W + x) * C + c)];
  };
  const std::string s = suffix(path);
  if (s == ".npy") {
    NpyArray a = read_npy(path);
    if (a.is_int8)
      throw Error(path, "int8 arrays are not network inputs (float32 or uint8 expected)");
    if (a.is_uint8)
      for (auto& v : a.values) v /= 255.0f;
    for (float v : a.values)
      if (!std::isfinite(v)) throw Error(path, "holds a value that is not finite");
    std::vector<std::int64_t> sh = a.shape;
    if (sh.size() == 4 && sh[0] == 1) sh.erase(sh.begin());
    const bool chw = sh == std::vector<std::int64_t>{C, H, W} ||
                     (C == 1 && sh == std::vector<std::int64_t>{H, W});
    if (chw) return a.values;
    if (sh == std::vector<std::int64_t>{H, W, C}) {
      from_hwc(a.values);
      return out;
    }
    throw Error(path, "array shape (" + shape_text(a.shape, ", ") +
                          ") does not fit the model input " + wanted);
  }
  Image im;
  if (s == ".pgm" || s == ".ppm")
    im = read_pnm(path);
  else if (s == ".png")
    im = read_png(path, C);
  else
    throw Error(path, "unknown input file type (expected .npy, .pgm, .ppm or .png)");
  if (im.c != C || im.h != H || im.w != W)
    throw Error(path, "image is " + std::to_string(im.w) + "x" + std::to_string(im.h) + " with " +
                          std::to_string(im.c) + " channel(s); the model input is " + wanted);
  from_hwc(im.hwc);
  return out;
}

CalibrationInputs::CalibrationInputs(const std::string& path, const std::vector<std::int64_t>& nchw)
    : path_(path), nchw_(nchw) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw Error(path, "cannot open: " + (ec ? ec.message() : std::string(std::strerror(ENOENT))));
  if (fs::is_directory(status)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file() && is_network_input_file(it->path().string()))
        files_.push_back(it->path().string());
    if (ec) throw Error(path, "cannot list: " + ec.message());
    if (files_.empty()) throw Error(path, "holds no .npy, .pgm, .ppm or .png file");
    std::sort(files_.begin(), files_.end());
    return;
  }
  files_.push_back(path);
  if (suffix(path) != ".npy" || nchw.size() != 4) return;
  NpyArray a = read_npy(path);
  if (a.shape.size() != 4 || a.shape[0] <= 1 || a.is_int8) return;  // one input, read later
  const std::int64_t C = nchw[1], H = nchw[2], W = nchw[3];
  const std::vector<std::int64_t> item(a.shape.begin() + 1, a.shape.end());
  batch_chw_ = item == std::vector<std::int64_t>{C, H, W};
  if (!batch_chw_ && item != std::vector<std::int64_t>{H, W, C})
    throw Error(path, "batch of shape (" + shape_text(a.shape, ", ") +
                          ") does not fit the model input " + shape_text(nchw));
  batch_ = std::move(a);
}

std::size_t CalibrationInputs::size() const {
  return batch_.shape.empty() ? files_.size() : static_cast<std::size_t>(batch_.shape[0]);
}

const std::string& CalibrationInputs::file(std::size_t i) const {
  return batch_.shape.empty() ? files_.at(i) : path_;
}

std::vector<float> CalibrationInputs::read(std::size_t i) const {
  if (batch_.shape.empty()) return read_network_input(files_.at(i), nchw_);
  const std::int64_t C = nchw_[1], H = nchw_[2], W = nchw_[3];
  const std::size_t n = static_cast<std::size_t>(C * H * W);
  std::vector<float> x(n);
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t y = 0; y < H; ++y)
      for (std::int64_t xx = 0; xx < W; ++xx) {
        const std::size_t from = batch_chw_ ? static_cast<std::size_t>((c * H + y) * W + xx)
                                            : static_cast<std::size_t>((y * W + xx) * C + c);
        float v = batch_.values[i * n + from];
        if (batch_.is_uint8) v /= 255.0f;
        if (!std::isfinite(v)) throw Error(path_, "holds a value that is not finite");
        x[static_cast<std::size_t>((c * H + y) * W + xx)] = v;
      }
  return x;
}

std::string npy_bytes(const std::vector<std::int8_t>& values,
                      const std::vector<std::int64_t>& shape) {
  std::string dict = "{'descr': '|i1', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dict += ",";  // (5,) is a tuple, (5) is not
  dict += "), }";
  // Magic, version and length take 10 bytes; the header ends in '\n' and the
  // data starts at a multiple of 64.
  std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string b("\x93NUMPY\x01\x00", 8);
  b.push_back(static_cast<char>(dict.size() & 0xff));
  b.push_back(static_cast<char>(dict.size() >> 8));
  b += dict;
  b.append(reinterpret_cast<const char*>(values.data()), values.size());
  return b;
}

}  // namespace pcnn
