#include "src/onnx/tensor_data.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "pcnn/core/error.hpp"

namespace pcnn::onnx_detail {
namespace {

namespace fs = std::filesystem;
using onnx::TensorProto;

std::string label(const TensorProto& t) { return "tensor '" + t.name() + "'"; }

[[noreturn]] void fail(const TensorProto& t, const TensorContext& ctx, const std::string& what) {
  throw Error(ctx.model_path, label(t) + ": " + what);
}

// Reads the bytes of an external-data tensor. Locations are relative to the
// model's directory and may not leave it.
std::string read_external(const TensorProto& t, const TensorContext& ctx, std::uint64_t expected) {
  std::string location;
  std::uint64_t offset = 0;
  bool has_length = false;
  std::uint64_t length = 0;
  for (const auto& entry : t.external_data()) {
    try {
      if (entry.key() == "location") {
        location = entry.value();
      } else if (entry.key() == "offset") {
        offset = std::stoull(entry.value());
      } else if (entry.key() == "length") {
        length = std::stoull(entry.value());
        has_length = true;
      }
    } catch (const std::exception&) {
      fail(t, ctx,
           "external-data entry '" + entry.key() + "' is not a number: '" + entry.value() + "'");
    }
  }
  if (location.empty()) fail(t, ctx, "external data without a 'location' entry");
  const fs::path rel(location);
  if (rel.is_absolute()) fail(t, ctx, "external-data location '" + location + "' is absolute");
  for (const auto& part : rel) {
    if (part == "..")
      fail(t, ctx, "external-data location '" + location + "' leaves the model's directory");
  }
  const fs::path dir = ctx.model_dir.empty() ? fs::path(".") : fs::path(ctx.model_dir);
  const fs::path file = dir / rel;
  std::error_code ec;
  const fs::path real_dir = fs::weakly_canonical(dir, ec);
  const fs::path real_file = fs::weakly_canonical(file, ec);
  if (!ec) {
    const auto rd = real_dir.native(), rf = real_file.native();
    if (rf.compare(0, rd.size(), rd) != 0 || (rf.size() > rd.size() && rf[rd.size()] != '/'))
      fail(t, ctx, "external-data location '" + location + "' leaves the model's directory");
  }
  if (has_length && length != expected)
    fail(t, ctx,
         "external-data length " + std::to_string(length) + " does not match the " +
             std::to_string(expected) + " bytes its dims need");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    fail(t, ctx, "cannot open external-data file '" + location + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (offset > size || size - offset < expected)
    fail(t, ctx,
         "external-data file '" + location + "' holds " + std::to_string(size) +
             " bytes; the tensor needs " + std::to_string(expected) + " at offset " +
             std::to_string(offset));
  std::string bytes(expected, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(expected));
  if (!in) fail(t, ctx, "cannot read external-data file '" + location + "'");
  return bytes;
}

int element_size(int data_type) {
  switch (data_type) {
    case TensorProto::FLOAT:
    case TensorProto::INT32:
    case TensorProto::UINT32:
      return 4;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
    case TensorProto::INT16:
    case TensorProto::UINT16:
      return 2;
    case TensorProto::DOUBLE:
    case TensorProto::INT64:
    case TensorProto::UINT64:
    case TensorProto::COMPLEX64:
      return 8;
    case TensorProto::INT8:
    case TensorProto::UINT8:
    case TensorProto::BOOL:
      return 1;
    case TensorProto::COMPLEX128:
      return 16;
    default:
      return 0;  // STRING and unknown types have no fixed width
  }
}

// The payload as little-endian bytes when it is in raw_data or an external file;
// empty (and *typed = true) when it is in the typed fields.
std::string raw_payload(const TensorProto& t, const TensorContext& ctx, std::uint64_t count,
                        bool* typed) {
  const std::uint64_t expected = count * static_cast<std::uint64_t>(element_size(t.data_type()));
  *typed = false;
  if (t.data_location() == TensorProto::EXTERNAL) return read_external(t, ctx, expected);
  if (!t.raw_data().empty() || count == 0) {
    if (t.raw_data().size() != expected)
      fail(t, ctx,
           "raw_data holds " + std::to_string(t.raw_data().size()) + " bytes; dims need " +
               std::to_string(expected));
    return {};
  }
  *typed = true;
  return {};
}

void check_count(const TensorProto& t, const TensorContext& ctx, std::uint64_t have,
                 std::uint64_t want, const char* field) {
  if (have != want)
    fail(t, ctx,
         std::string(field) + " holds " + std::to_string(have) + " values; dims need " +
             std::to_string(want));
}

}  // namespace

std::string data_type_name(int data_type) {
  if (data_type == 0) return "UNDEFINED";
  if (TensorProto::DataType_IsValid(data_type))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(data_type));
  return "unknown (" + std::to_string(data_type) + ")";
}

bool is_float_type(int data_type) {
  return data_type == TensorProto::FLOAT || data_type == TensorProto::FLOAT16 ||
         data_type == TensorProto::BFLOAT16 || data_type == TensorProto::DOUBLE;
}

std::int64_t element_count(const TensorProto& t, const TensorContext& ctx) {
  std::int64_t count = 1;
  for (const auto d : t.dims()) {
    if (d < 0) fail(t, ctx, "negative dimension " + std::to_string(d));
    if (d > 0 && count > std::numeric_limits<std::int64_t>::max() / 16 / d)
      fail(t, ctx, "dimensions overflow");
    count *= d;
  }
  return count;
}

std::uint64_t raw_byte_count(int data_type, std::uint64_t count) {
  return count * static_cast<std::uint64_t>(element_size(data_type));
}

std::vector<float> decode_float_tensor(const TensorProto& t, const TensorContext& ctx) {
  if (t.data_type() == TensorProto::UNDEFINED) fail(t, ctx, "missing data type");
  if (!is_float_type(t.data_type()))
    fail(t, ctx,
         "unsupported data type " + data_type_name(t.data_type()) +
             " (expected FLOAT, FLOAT16, BFLOAT16 or DOUBLE)");
  if (t.has_segment()) fail(t, ctx, "segmented tensors are not supported");
  const auto count = static_cast<std::uint64_t>(element_count(t, ctx));
  bool typed = false;
  const std::string external = raw_payload(t, ctx, count, &typed);
  if (typed) {  // sizes are checked before anything is allocated
    if (t.data_type() == TensorProto::FLOAT)
      check_count(t, ctx, t.float_data_size(), count, "float_data");
    else if (t.data_type() == TensorProto::DOUBLE)
      check_count(t, ctx, t.double_data_size(), count, "double_data");
    else
      check_count(t, ctx, t.int32_data_size(), count, "int32_data");
  }
  std::vector<float> out = allocate_floats(count);
  if (typed) {
    switch (t.data_type()) {
      case TensorProto::FLOAT:
        std::copy(t.float_data().begin(), t.float_data().end(), out.begin());
        break;
      case TensorProto::DOUBLE:
        for (std::uint64_t i = 0; i < count; ++i) out[i] = static_cast<float>(t.double_data(i));
        break;
      default:  // 16-bit types live in the low half of int32_data
        for (std::uint64_t i = 0; i < count; ++i) {
          const auto bits = static_cast<std::uint16_t>(t.int32_data(i) & 0xffff);
          out[i] =
              t.data_type() == TensorProto::FLOAT16 ? half_to_float(bits) : bfloat16_to_float(bits);
        }
    }
    return out;
  }
  const char* bytes = external.empty() ? t.raw_data().data() : external.data();
  switch (t.data_type()) {
    case TensorProto::FLOAT:
      if (count) std::memcpy(out.data(), bytes, count * 4);
      break;
    case TensorProto::DOUBLE:
      for (std::uint64_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, bytes + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      break;
    default:
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, bytes + 2 * i, 2);
        out[i] =
            t.data_type() == TensorProto::FLOAT16 ? half_to_float(bits) : bfloat16_to_float(bits);
      }
  }
  return out;
}

std::string read_external_payload(const TensorProto& t, const TensorContext& ctx) {
  const int width = element_size(t.data_type());
  if (width == 0)
    fail(t, ctx, "external data of type " + data_type_name(t.data_type()) + " is not supported");
  const auto count = static_cast<std::uint64_t>(element_count(t, ctx));
  return read_external(t, ctx, count * static_cast<std::uint64_t>(width));
}

std::vector<std::int64_t> decode_int_tensor(const TensorProto& t, const TensorContext& ctx) {
  if (t.data_type() != TensorProto::INT64 && t.data_type() != TensorProto::INT32)
    fail(t, ctx, "expected an INT64 tensor, found " + data_type_name(t.data_type()));
  const auto count = static_cast<std::uint64_t>(element_count(t, ctx));
  bool typed = false;
  const std::string external = raw_payload(t, ctx, count, &typed);
  std::vector<std::int64_t> out(count);
  if (typed) {
    if (t.data_type() == TensorProto::INT64) {
      check_count(t, ctx, t.int64_data_size(), count, "int64_data");
      std::copy(t.int64_data().begin(), t.int64_data().end(), out.begin());
    } else {
      check_count(t, ctx, t.int32_data_size(), count, "int32_data");
      std::copy(t.int32_data().begin(), t.int32_data().end(), out.begin());
    }
    return out;
  }
  const char* bytes = external.empty() ? t.raw_data().data() : external.data();
  for (std::uint64_t i = 0; i < count; ++i) {
    if (t.data_type() == TensorProto::INT64) {
      std::memcpy(&out[i], bytes + 8 * i, 8);
    } else {
      std::int32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      out[i] = v;
    }
  }
  return out;
}

void drop_tensor_payload(TensorProto& t) {
  std::string().swap(*t.mutable_raw_data());
  t.clear_raw_data();
  google::protobuf::RepeatedField<float>().Swap(t.mutable_float_data());
  google::protobuf::RepeatedField<std::int32_t>().Swap(t.mutable_int32_data());
  google::protobuf::RepeatedField<double>().Swap(t.mutable_double_data());
  t.clear_external_data();
  t.clear_data_location();
}

void encode_raw(const float* values, std::size_t count, int data_type, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + raw_byte_count(data_type, count));
  char* dst = out.data() + start;
  switch (data_type) {
    case TensorProto::FLOAT:
      if (count) std::memcpy(dst, values, count * 4);
      break;
    case TensorProto::DOUBLE:
      for (std::size_t i = 0; i < count; ++i) {
        const double v = values[i];
        std::memcpy(dst + 8 * i, &v, 8);
      }
      break;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t bits = data_type == TensorProto::FLOAT16 ? float_to_half(values[i])
                                                                     : float_to_bfloat16(values[i]);
        std::memcpy(dst + 2 * i, &bits, 2);
      }
      break;
    default:
      out.resize(start);
  }
}

std::vector<float> allocate_floats(std::size_t count) {
  std::vector<float> v;
  v.reserve(count);
  constexpr std::uintptr_t kHuge = 2u << 20;
  const std::size_t bytes = count * sizeof(float);
  if (bytes >= 2 * kHuge) {
    // Only the 2 MiB-aligned interior; the pages are untouched until resize().
    const auto begin = (reinterpret_cast<std::uintptr_t>(v.data()) + kHuge - 1) & ~(kHuge - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(v.data()) + bytes) & ~(kHuge - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
  v.resize(count);
  return v;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u)  // inf or nan
    return static_cast<std::uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {               // result is subnormal or zero
    if (abs < 0x33000000u) return sign;  // below half the smallest subnormal
    const std::uint32_t e = abs >> 23;
    const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // 14 + (113 - e) ... aligns to 2^-24 units
    const std::uint32_t q = mant >> shift;
    const std::uint32_t rem = mant & ((1u << shift) - 1);
    const std::uint32_t half = 1u << (shift - 1);
    std::uint32_t r = q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
    return static_cast<std::uint16_t>(sign | r);
  }
  std::uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  const std::uint32_t rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return static_cast<std::uint16_t>(sign | r);
}

float bfloat16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::uint16_t float_to_bfloat16(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  const std::uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>((x + rounding) >> 16);
}

}  // namespace pcnn::onnx_detail
