#include "pcnn/image/model_images.hpp"

#include <sys/stat.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "image_file_reader.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/tensor_limit.hpp"
#include "pcnn/image/staging_dir.hpp"

namespace pcnn {
namespace {

using nlohmann::json;

constexpr char kFormatName[] = "pcnn-spm-images";
constexpr char kConfigMagic[8] = {'P', 'C', 'N', 'N', 'P', 'A', 'C', '\0'};
constexpr char kWeightsFile[] = "weights.bin";
constexpr char kPatternsFile[] = "patterns.bin";
constexpr char kConfigFile[] = "pattern_config.bin";
constexpr char kManifestFile[] = "manifest.json";

// The CRC-32 of `size` bytes at `data` (zlib's crc32_z takes a size_t length).
std::uint32_t crc32_of(const void* data, std::size_t size) {
  return static_cast<std::uint32_t>(::crc32_z(0, static_cast<const Bytef*>(data), size));
}

std::string hex32(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

void put_u16(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
  out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
}
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put_u16(out, v & 0xffff);
  put_u16(out, v >> 16);
}
std::uint32_t get_u16(const std::uint8_t* in, std::size_t at) {
  return in[at] | (static_cast<std::uint32_t>(in[at + 1]) << 8);
}
std::uint32_t get_u32(const std::uint8_t* in, std::size_t at) {
  return get_u16(in, at) | (get_u16(in, at + 2) << 16);
}

constexpr std::size_t kConfigHeaderBytes = 16;       // magic, version, layer count
constexpr std::size_t kConfigRecordHeaderBytes = 8;  // n, V, K, flags, index bits

std::uint64_t round_up(std::uint64_t v, std::uint64_t to) { return (v + to - 1) / to * to; }

std::uint64_t weight_image_size(const SpmLayer& l) {
  const std::uint64_t kernels = static_cast<std::uint64_t>(l.geom.kernel_count());
  const std::uint64_t per_row = static_cast<std::uint64_t>(l.kernels_per_row());
  return (kernels + per_row - 1) / per_row * static_cast<std::uint64_t>(l.row_bytes());
}
std::uint64_t pattern_image_size(const SpmLayer& l) {
  return (static_cast<std::uint64_t>(l.geom.kernel_count()) *
              static_cast<std::uint64_t>(l.index_bits()) +
          7) /
         8;
}
std::uint64_t config_record_size(const SpmLayer& l) {
  return kConfigRecordHeaderBytes + 2 * l.patterns.size();
}

std::vector<std::uint8_t> pattern_config_image(const ModelImages& images) {
  std::vector<std::uint8_t> out(kConfigMagic, kConfigMagic + 8);
  put_u32(out, static_cast<std::uint32_t>(kImageFormatVersion));
  put_u32(out, static_cast<std::uint32_t>(images.layers.size()));
  for (const SpmLayer& l : images.layers) {
    put_u16(out, static_cast<std::uint32_t>(l.n));
    put_u16(out, static_cast<std::uint32_t>(l.patterns.size()));
    put_u16(out, static_cast<std::uint32_t>(l.geom.kernel_size()));
    out.push_back(l.pattern_pruned ? 1 : 0);
    out.push_back(static_cast<std::uint8_t>(l.index_bits()));
    for (std::uint16_t m : l.patterns) put_u16(out, m);
  }
  return out;
}

json geometry_json(const ConvGeometry& g) {
  return json{{"in_channels", g.in_channels},
              {"out_channels", g.out_channels},
              {"in_h", g.in_h},
              {"in_w", g.in_w},
              {"kernel_h", g.kernel_h},
              {"kernel_w", g.kernel_w},
              {"stride_h", g.stride_h},
              {"stride_w", g.stride_w},
              {"pad_top", g.pad_top},
              {"pad_left", g.pad_left},
              {"pad_bottom", g.pad_bottom},
              {"pad_right", g.pad_right},
              {"dilation_h", g.dilation_h},
              {"dilation_w", g.dilation_w},
              {"group", g.group}};
}

// A region of one image file: where a layer's part lies and its CRC-32.
json region_json(const std::uint8_t* file, std::uint64_t offset, std::uint64_t size) {
  return json{{"offset", offset}, {"size", size}, {"crc32", hex32(crc32_of(file + offset, size))}};
}

json manifest_body(const ModelImages& images, const ImageBytes& weights, const ImageBytes& patterns,
                   const std::vector<std::uint8_t>& config) {
  json layers = json::array();
  std::uint64_t config_offset = kConfigHeaderBytes;
  for (const SpmLayer& l : images.layers) {
    std::vector<std::int32_t> mult, shift;
    for (const Requant& r : l.requant) {
      mult.push_back(r.multiplier);
      shift.push_back(r.shift);
    }
    layers.push_back(
        json{{"name", l.name},
             {"index", l.index},
             {"geometry", geometry_json(l.geom)},
             {"pattern_pruned", l.pattern_pruned},
             {"n", l.n},
             {"V", l.num_patterns()},
             {"index_bits", l.index_bits()},
             {"kernels", l.geom.kernel_count()},
             {"kernel_register_words", l.kernel_register_words},
             {"kernels_per_row", l.kernels_per_row()},
             {"row_bytes", l.row_bytes()},
             {"weights", region_json(weights.data(), l.weight_offset, weight_image_size(l))},
             {"patterns", region_json(patterns.data(), l.pattern_offset, pattern_image_size(l))},
             {"pattern_config", region_json(config.data(), config_offset, config_record_size(l))},
             {"masks", l.patterns},
             {"weight_scale", l.weight_scale},
             {"input_scale", l.input_scale},
             {"output_scale", l.output_scale},
             {"bias", l.bias},
             {"requant_multiplier", mult},
             {"requant_shift", shift},
             {"relu", l.relu}});
    config_offset += config_record_size(l);
  }
  auto image = [](const auto& b) {
    return json{{"size", b.size()}, {"crc32", hex32(crc32_of(b.data(), b.size()))}};
  };
  return json{{"format", kFormatName},
              {"version", kImageFormatVersion},
              {"model", {{"name", images.model_name}, {"source_file", images.source_file}}},
              {"images",
               {{kWeightsFile, image(weights)},
                {kPatternsFile, image(patterns)},
                {kConfigFile, image(config)}}},
              {"layers", layers}};
}

// The identity is the CRC-32 of the manifest's body (docs/image-format.md):
// the body holds every file's and every region's CRC-32, so it stands for the
// whole image set, and a run checks it without reading the images.
std::string identity_of(const std::string& body) {
  return "crc32:" + hex32(crc32_of(body.data(), body.size()));
}

// ---- reading --------------------------------------------------------------

// Typed access to the manifest with messages naming the key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(file_, key + ": " + what);
  }
  const std::string& file() const { return file_; }
  const json& field(const json& obj, const std::string& key, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(where + key, "missing");
    return *it;
  }
  void only_keys(const json& obj, std::initializer_list<const char*> keys,
                 const std::string& where) const {
    if (!obj.is_object()) fail(where.empty() ? "manifest" : where, "expected an object");
    std::set<std::string> allowed(keys.begin(), keys.end());
    for (const auto& item : obj.items())
      if (!allowed.count(item.key())) fail(where + item.key(), "unknown key");
  }
  std::int64_t integer(const json& obj, const std::string& key, const std::string& where,
                       std::int64_t lo, std::int64_t hi) const {
    const json& v = field(obj, key, where);
    if (!v.is_number_integer()) fail(where + key, "expected an integer");
    std::int64_t x = 0;
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(where + key, "out of range");
      x = static_cast<std::int64_t>(u);
    } else {
      x = v.get<std::int64_t>();
    }
    if (x < lo || x > hi)
      fail(where + key,
           std::to_string(x) + " outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return x;
  }
  bool boolean(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = field(obj, key, where);
    if (!v.is_boolean()) fail(where + key, "expected true or false");
    return v.get<bool>();
  }
  std::string text(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = field(obj, key, where);
    if (!v.is_string()) fail(where + key, "expected a string");
    return v.get<std::string>();
  }
  float real(const json& v, const std::string& where) const {
    if (!v.is_number()) fail(where, "expected a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d > std::numeric_limits<float>::max() ||
        d < -std::numeric_limits<float>::max())
      fail(where, "not a finite float");
    return static_cast<float>(d);
  }
  const json& array(const json& obj, const std::string& key, const std::string& where,
                    std::size_t size) const {
    const json& v = field(obj, key, where);
    if (!v.is_array()) fail(where + key, "expected an array");
    if (v.size() != size)
      fail(where + key,
           "has " + std::to_string(v.size()) + " entries, expected " + std::to_string(size));
    return v;
  }

 private:
  std::string file_;
};

constexpr std::int64_t kMaxDim = 1 << 20;

ConvGeometry read_geometry(const Reader& r, const json& g, const std::string& w) {
  r.only_keys(g,
              {"in_channels", "out_channels", "in_h", "in_w", "kernel_h", "kernel_w", "stride_h",
               "stride_w", "pad_top", "pad_left", "pad_bottom", "pad_right", "dilation_h",
               "dilation_w", "group"},
              w);
  ConvGeometry c;
  auto pos = [&](const char* k) { return static_cast<int>(r.integer(g, k, w, 1, kMaxDim)); };
  auto nonneg = [&](const char* k) { return static_cast<int>(r.integer(g, k, w, 0, kMaxDim)); };
  c.in_channels = pos("in_channels");
  c.out_channels = pos("out_channels");
  c.in_h = pos("in_h");
  c.in_w = pos("in_w");
  c.kernel_h = static_cast<int>(r.integer(g, "kernel_h", w, 1, 64));
  c.kernel_w = static_cast<int>(r.integer(g, "kernel_w", w, 1, 64));
  c.stride_h = pos("stride_h");
  c.stride_w = pos("stride_w");
  c.pad_top = nonneg("pad_top");
  c.pad_left = nonneg("pad_left");
  c.pad_bottom = nonneg("pad_bottom");
  c.pad_right = nonneg("pad_right");
  c.dilation_h = pos("dilation_h");
  c.dilation_w = pos("dilation_w");
  c.group = pos("group");
  if (c.in_channels % c.group != 0) r.fail(w + "group", "does not divide in_channels");
  if (c.kernel_count() > (std::int64_t{1} << 32))
    r.fail(w.substr(0, w.size() - 1), "too many kernels");
  // What a run allocates for the layer, within the limit the pruner applies too.
  const std::string layer = w.substr(0, w.size() - 1);
  check_tensor_shape(r.file(), layer + ": input", {1, c.in_channels, c.in_h, c.in_w});
  check_tensor_shape(r.file(), layer + ": output", {1, c.out_channels, c.out_h(), c.out_w()});
  check_tensor_shape(r.file(), layer + ": dense weights",
                     {c.out_channels, c.in_channels_per_group(), c.kernel_h, c.kernel_w});
  return c;
}

void check_region(const Reader& r, std::uint64_t offset, std::uint64_t size,
                  std::uint64_t expected_size, std::size_t file_size, const std::string& where,
                  const char* file) {
  if (size != expected_size)
    r.fail(where + "size",
           std::to_string(size) + ", but the layer's shape needs " + std::to_string(expected_size));
  if (offset > file_size || size > file_size - offset)
    r.fail(where + "offset", "region lies beyond the end of " + std::string(file));
}

}  // namespace

void assign_image_offsets(ModelImages& images) {
  std::uint64_t w = 0, p = 0, c = kConfigHeaderBytes;
  for (SpmLayer& l : images.layers) {
    w = round_up(w, static_cast<std::uint64_t>(l.row_bytes()));
    l.weight_offset = w;
    w += weight_image_size(l);
    l.pattern_offset = p;
    p += pattern_image_size(l);
    l.pattern_config_offset = c;
    c += config_record_size(l);
  }
}

ImageFiles encode_image_files(ModelImages& images) {
  assign_image_offsets(images);
  return {model_weight_image(images), model_pattern_image(images), pattern_config_image(images)};
}

ImageBytes model_weight_image(const ModelImages& images) {
  std::uint64_t size = 0;
  for (const SpmLayer& l : images.layers)
    size = std::max(size, l.weight_offset + weight_image_size(l));
  ImageBytes out(static_cast<std::size_t>(size), 0);
  for (const SpmLayer& l : images.layers) {
    const std::vector<std::uint8_t> part = l.weight_image();
    std::copy(part.begin(), part.end(), out.begin() + static_cast<std::ptrdiff_t>(l.weight_offset));
  }
  return out;
}

ImageBytes model_pattern_image(const ModelImages& images) {
  std::uint64_t size = 0;
  for (const SpmLayer& l : images.layers)
    size = std::max(size, l.pattern_offset + pattern_image_size(l));
  ImageBytes out(static_cast<std::size_t>(size), 0);
  for (const SpmLayer& l : images.layers) {
    const std::vector<std::uint8_t> part = l.pattern_image();
    std::copy(part.begin(), part.end(),
              out.begin() + static_cast<std::ptrdiff_t>(l.pattern_offset));
  }
  return out;
}

void write_model_image_files(ModelImages& images, const std::string& dir) {
  for (const SpmLayer& l : images.layers) l.validate();
  auto files = std::make_shared<ImageFiles>(encode_image_files(images));
  const ImageBytes& weights = files->weights;
  const ImageBytes& patterns = files->patterns;
  const std::vector<std::uint8_t>& config = files->pattern_config;
  json manifest = manifest_body(images, weights, patterns, config);
  images.identity = identity_of(json_text(manifest));
  manifest["identity"] = images.identity;

  write_file_synced(dir + "/" + kWeightsFile, weights.data(), weights.size());
  write_file_synced(dir + "/" + kPatternsFile, patterns.data(), patterns.size());
  write_file_synced(dir + "/" + kConfigFile, config.data(), config.size());
  write_file_synced(dir + "/" + kManifestFile, json_text(manifest) + "\n");
  images.files = std::move(files);
}

void write_model_images(ModelImages& images, const std::string& dir) {
  StagingDirectory staging(dir);
  write_model_image_files(images, staging.path());
  staging.commit();
}

const std::vector<std::string>& image_set_file_names() {
  static const std::vector<std::string> names{kManifestFile, kWeightsFile, kPatternsFile,
                                              kConfigFile};
  return names;
}

std::string why_not_image_set_manifest(const std::string& dir) {
  const std::string path = dir + "/" + kManifestFile;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::string("holds no ") + kManifestFile + " file";
  if (st.st_size > (1 << 26)) return std::string(kManifestFile) + " is too large for a manifest";
  json m;
  try {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    m = json::parse(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return std::string("its ") + kManifestFile + " is not valid JSON";
  }
  if (!m.is_object() || !m.contains("format") || m["format"] != kFormatName ||
      !m.contains("version") || !m["version"].is_number_integer())
    return std::string("its ") + kManifestFile + " does not describe a '" + kFormatName +
           "' image set";
  return "";
}

namespace {

// A layer's non-zeros from its rows of the weight image: kernels_per_row()
// kernels of n bytes at the start of each row of row_bytes().
void decode_nonzeros(SpmLayer& l, const std::uint8_t* wbase) {
  const std::int64_t kernels = l.geom.kernel_count();
  const std::int64_t per_row = l.kernels_per_row();
  const std::size_t n = static_cast<std::size_t>(l.n);
  l.nonzeros.resize(static_cast<std::size_t>(kernels) * n);
  for (std::int64_t k0 = 0, row = 0; k0 < kernels; k0 += per_row, ++row) {
    const std::int64_t in_row = std::min(per_row, kernels - k0);
    std::memcpy(l.nonzeros.data() + static_cast<std::size_t>(k0) * n,
                wbase + static_cast<std::uint64_t>(row) * static_cast<std::uint64_t>(l.row_bytes()),
                static_cast<std::size_t>(in_row) * n);
  }
}

// A layer's SPM indices: index_bits() per kernel, LSB first (pack_bits).
void decode_kernel_index(SpmLayer& l, const std::uint8_t* pbase, std::size_t size) {
  const std::int64_t kernels = l.geom.kernel_count();
  l.kernel_index.assign(static_cast<std::size_t>(kernels), 0);
  // The region's size was checked against kernels * index_bits.
  unpack_bits_run(pbase, size, 0, kernels, l.index_bits(), l.kernel_index.data());
}

// A layer's non-zeros and SPM indices from its image regions (weights at
// `wbase`, `psize` bytes of indices at `pbase`), then validate().
void rebuild_kernel_data(SpmLayer& l, const std::uint8_t* wbase, const std::uint8_t* pbase,
                         std::size_t psize) {
  decode_nonzeros(l, wbase);
  if (!l.patterns.empty()) decode_kernel_index(l, pbase, psize);
  l.validate();
}

// SpmLayer::validate's check of the SPM indices, on the packed stream: every
// index_bits()-wide value is below V. With V a power of two each is, so
// nothing is read. Throws the error validate() throws.
void check_packed_indices(const SpmLayer& l, const std::uint8_t* pbase, std::size_t size) {
  const int bits = l.index_bits();
  const std::uint64_t V = l.patterns.size();
  if (!l.pattern_pruned || bits == 0 || V == (std::uint64_t{1} << bits)) return;
  const std::int64_t kernels = l.geom.kernel_count();
  if (static_cast<std::uint64_t>(kernels) * static_cast<std::uint64_t>(bits) >
      static_cast<std::uint64_t>(size) * 8)
    throw Error("layer '" + l.name + "'", "kernel index count does not match the shape");
  // In slices, so that the check needs no per-kernel array.
  constexpr std::int64_t kSlice = 1024;
  std::uint32_t slice[kSlice];
  for (std::int64_t k = 0; k < kernels; k += kSlice) {
    const std::int64_t count = std::min(kSlice, kernels - k);
    unpack_bits_run(pbase, size, k, count, bits, slice);
    for (std::int64_t i = 0; i < count; ++i)
      if (slice[i] >= V)
        throw Error("layer '" + l.name + "'", "SPM index beyond the pattern table");
  }
}

// One layer's part of an image file, as the manifest gives it.
struct Region {
  std::uint64_t offset = 0, size = 0;
  std::uint32_t crc = 0;
};

std::uint32_t read_crc(const Reader& r, const json& obj, const std::string& where) {
  const std::string text = r.text(obj, "crc32", where);
  if (text.size() != 8 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
    r.fail(where + "crc32", "expected 8 lower-case hex digits");
  return static_cast<std::uint32_t>(std::stoul(text, nullptr, 16));
}

// One of the three image files: opened, its size and CRC-32 from the manifest,
// the regions of every layer in it, and its bytes (all of them, or with a
// one-layer read only the regions read; the rest stays zero).
struct ImageFile {
  const char* name = nullptr;
  std::unique_ptr<ImageFileReader> reader;
  std::uint32_t crc = 0;
  std::vector<Region> regions;  // per layer
  ImageBytes bytes;

  const std::string& path() const { return reader->path(); }
  // Reads a region and checks its CRC-32; the error names the file and the layer.
  void read_region(const Region& g, const std::string& layer) {
    reader->read(g.offset, g.size, bytes.data() + g.offset);
    check_region(g, layer);
  }
  void check_region(const Region& g, const std::string& layer) const {
    const std::uint32_t got = crc32_of(bytes.data() + g.offset, g.size);
    if (got != g.crc)
      throw Error(path(), "layer '" + layer + "': checksum mismatch in bytes " +
                              std::to_string(g.offset) + ".." +
                              std::to_string(g.offset + g.size - 1) + " (file " + hex32(got) +
                              ", manifest " + hex32(g.crc) + "): the file is corrupted");
  }
  // The whole file's CRC-32 from its regions' (already checked) and the bytes
  // between them; the regions do not overlap (checked).
  std::uint32_t whole_crc() const {
    std::vector<const Region*> sorted;
    for (const Region& g : regions) sorted.push_back(&g);
    std::sort(sorted.begin(), sorted.end(),
              [](const Region* x, const Region* y) { return x->offset < y->offset; });
    uLong crc = 0;
    std::uint64_t at = 0;
    for (const Region* g : sorted) {
      crc = ::crc32_z(crc, bytes.data() + at, g->offset - at);
      crc = ::crc32_combine(crc, g->crc, static_cast<z_off_t>(g->size));
      at = g->offset + g->size;
    }
    crc = ::crc32_z(crc, bytes.data() + at, bytes.size() - at);
    return static_cast<std::uint32_t>(crc);
  }
};

// No two layers' regions of one file overlap, and none overlaps the part
// before `first` (the Pattern Config header). The message names both layers.
void check_no_overlap(const Reader& r, const ImageFile& f, const std::vector<SpmLayer>& layers,
                      const char* key, std::uint64_t first) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < f.regions.size(); ++i)
    if (f.regions[i].size > 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return f.regions[a].offset < f.regions[b].offset;
  });
  std::uint64_t end = first;
  std::size_t previous = order.size();
  for (std::size_t i : order) {
    const std::string where = "layers[" + std::to_string(i) + "]." + key + ".offset";
    if (f.regions[i].offset < end)
      r.fail(where, previous == order.size()
                        ? "overlaps the file's header"
                        : "overlaps the region of layer '" + layers[previous].name + "'");
    end = f.regions[i].offset + f.regions[i].size;
    previous = i;
  }
}

ModelImages read_images(const std::string& dir, const std::string* only_layer, KernelData data) {
  const std::string manifest_path = dir + "/" + kManifestFile;
  const Reader r(manifest_path);
  const std::vector<std::uint8_t> manifest_bytes = read_file_bytes(manifest_path);
  json m;
  try {
    m = json::parse(manifest_bytes.begin(), manifest_bytes.end());
  } catch (const json::exception& e) {
    throw Error(manifest_path, "not valid JSON: " + json_error_text(e));
  }
  if (!m.is_object()) throw Error(manifest_path, "expected a JSON object");
  // The version decides how everything else is read, so it is checked first.
  if (!m.contains("version") || !m["version"].is_number_integer())
    throw Error(manifest_path, "missing or non-integer 'version'");
  if (m["version"] == 1)
    throw Error(manifest_path,
                "image format version 1 has no per-layer checksums (this reader knows version " +
                    std::to_string(kImageFormatVersion) +
                    "): run pcnn-prune on the model again to rewrite the images");
  if (m["version"] != kImageFormatVersion)
    throw Error(manifest_path, "unknown format version " + m["version"].dump() +
                                   " (this reader knows version " +
                                   std::to_string(kImageFormatVersion) + ")");
  r.only_keys(m, {"format", "version", "model", "images", "layers", "identity"}, "");
  if (r.text(m, "format", "") != kFormatName)
    throw Error(manifest_path, "format is not '" + std::string(kFormatName) + "'");

  // The identity is the body's CRC-32, and the body holds every checksum: once
  // it matches, the manifest can be trusted and the files checked against it.
  ModelImages out;
  out.identity = r.text(m, "identity", "");
  const std::string line = "\n  \"identity\": \"" + out.identity + "\",\n";
  const auto at =
      std::search(manifest_bytes.begin(), manifest_bytes.end(), line.begin(), line.end());
  bool same = false;
  if (at != manifest_bytes.end() && manifest_bytes.back() == '\n') {
    // The writer's text: the body's text with this one line and a final newline
    // added; its own bytes stand for the body, which saves serialising it again.
    std::string body(manifest_bytes.begin(), at + 1);
    body.append(at + static_cast<std::ptrdiff_t>(line.size()), manifest_bytes.end() - 1);
    same = identity_of(body) == out.identity;
  }
  if (!same) {
    m.erase("identity");
    if (identity_of(json_text(m)) != out.identity)
      throw Error(manifest_path, "identity checksum mismatch: the manifest was altered");
  }

  const json& model = r.field(m, "model", "");
  r.only_keys(model, {"name", "source_file"}, "model.");
  out.model_name = r.text(model, "name", "model.");
  out.source_file = r.text(model, "source_file", "model.");

  // The files: opened, their sizes as the manifest says. Nothing is read yet.
  const json& imgs = r.field(m, "images", "");
  r.only_keys(imgs, {kWeightsFile, kPatternsFile, kConfigFile}, "images.");
  ImageFile files[3];
  ImageFile& weights = files[0];
  ImageFile& patterns = files[1];
  ImageFile& config = files[2];
  const char* names[3] = {kWeightsFile, kPatternsFile, kConfigFile};
  for (int i = 0; i < 3; ++i) {
    ImageFile& f = files[i];
    f.name = names[i];
    const std::string w = std::string("images.") + f.name + ".";
    const json& e = r.field(imgs, f.name, "images.");
    r.only_keys(e, {"size", "crc32"}, w);
    const auto size = static_cast<std::uint64_t>(
        r.integer(e, "size", w, 0, static_cast<std::int64_t>(kMaxInputFileBytes)));
    f.crc = read_crc(r, e, w);
    f.reader = std::make_unique<ImageFileReader>(dir + "/" + f.name);
    if (f.reader->size() != size)
      throw Error(f.path(), "size " + std::to_string(f.reader->size()) + " bytes, manifest says " +
                                std::to_string(size));
    // A whole read overwrites every byte; a one-layer read leaves the other
    // layers' regions zero (a large buffer is so already, and its untouched
    // pages cost nothing).
    f.bytes.resize(static_cast<std::size_t>(size));
    if (only_layer != nullptr && !ImageBytes::allocator_type::zeroed_when_new(f.bytes.size()))
      std::fill(f.bytes.begin(), f.bytes.end(), std::uint8_t{0});
  }

  // The Pattern Config header: magic, version and layer count, checked by value.
  if (config.bytes.size() < kConfigHeaderBytes) throw Error(config.path(), "bad magic");
  config.reader->read(0, kConfigHeaderBytes, config.bytes.data());
  if (!std::equal(kConfigMagic, kConfigMagic + 8, config.bytes.begin()))
    throw Error(config.path(), "bad magic");
  if (get_u32(config.bytes.data(), 8) != static_cast<std::uint32_t>(kImageFormatVersion))
    throw Error(config.path(),
                "unknown format version " + std::to_string(get_u32(config.bytes.data(), 8)));

  const json& layers = r.field(m, "layers", "");
  if (!layers.is_array()) r.fail("layers", "expected an array");
  if (get_u32(config.bytes.data(), 12) != layers.size())
    throw Error(config.path(), "layer count differs from the manifest");
  std::set<std::string> layer_names;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string w = "layers[" + std::to_string(i) + "].";
    const json& j = layers[i];
    r.only_keys(j,
                {"name",
                 "index",
                 "geometry",
                 "pattern_pruned",
                 "n",
                 "V",
                 "index_bits",
                 "kernels",
                 "kernel_register_words",
                 "kernels_per_row",
                 "row_bytes",
                 "weights",
                 "patterns",
                 "pattern_config",
                 "masks",
                 "weight_scale",
                 "input_scale",
                 "output_scale",
                 "bias",
                 "requant_multiplier",
                 "requant_shift",
                 "relu"},
                w);
    SpmLayer l;
    l.name = r.text(j, "name", w);
    // Layer names select layers (--layer), so each must be present and unique.
    if (l.name.empty()) r.fail(w + "name", "is empty");
    if (!layer_names.insert(l.name).second)
      r.fail(w + "name", "'" + l.name + "' names an earlier layer too");
    l.index = static_cast<int>(r.integer(j, "index", w, 0, kMaxDim));
    l.geom = read_geometry(r, r.field(j, "geometry", w), w + "geometry.");
    l.pattern_pruned = r.boolean(j, "pattern_pruned", w);
    const int K = l.geom.kernel_size();
    l.n = static_cast<int>(r.integer(j, "n", w, 1, K));
    l.kernel_register_words = static_cast<int>(r.integer(j, "kernel_register_words", w, 1, 4096));
    const auto V = r.integer(j, "V", w, 0, 1 << 16);
    const json& masks = r.array(j, "masks", w, static_cast<std::size_t>(V));
    for (std::size_t p = 0; p < masks.size(); ++p) {
      if (!masks[p].is_number_unsigned() || masks[p].get<std::uint64_t>() > 0xffff)
        r.fail(w + "masks[" + std::to_string(p) + "]", "expected a 16-bit mask");
      l.patterns.push_back(masks[p].get<std::uint16_t>());
    }
    if (r.integer(j, "index_bits", w, 0, 32) != l.index_bits())
      r.fail(w + "index_bits", "inconsistent with V");
    if (r.integer(j, "kernels", w, 0, std::numeric_limits<std::int64_t>::max()) !=
        l.geom.kernel_count())
      r.fail(w + "kernels", "inconsistent with the geometry");
    if (r.integer(j, "kernels_per_row", w, 0, 1 << 20) != l.kernels_per_row())
      r.fail(w + "kernels_per_row", "inconsistent with n and kernel_register_words");
    if (r.integer(j, "row_bytes", w, 0, 1 << 20) != l.row_bytes())
      r.fail(w + "row_bytes", "inconsistent with n and kernel_register_words");

    const auto M = static_cast<std::size_t>(l.geom.out_channels);
    const json& ws = r.array(j, "weight_scale", w, M);
    const json& bias = r.array(j, "bias", w, M);
    const json& mult = r.array(j, "requant_multiplier", w, M);
    const json& shift = r.array(j, "requant_shift", w, M);
    for (std::size_t c = 0; c < M; ++c) {
      const std::string idx = "[" + std::to_string(c) + "]";
      l.weight_scale.push_back(r.real(ws[c], w + "weight_scale" + idx));
      if (!bias[c].is_number_integer()) r.fail(w + "bias" + idx, "expected an integer");
      const auto b = bias[c].get<std::int64_t>();
      if (b < std::numeric_limits<std::int32_t>::min() ||
          b > std::numeric_limits<std::int32_t>::max())
        r.fail(w + "bias" + idx, "outside the int32 range");
      l.bias.push_back(static_cast<std::int32_t>(b));
      if (!mult[c].is_number_integer() || !shift[c].is_number_integer())
        r.fail(w + "requant" + idx, "expected integers");
      const auto mu = mult[c].get<std::int64_t>();
      const auto sh = shift[c].get<std::int64_t>();
      if (mu < (1 << 30) || mu > std::numeric_limits<std::int32_t>::max() || sh < -31 || sh > 31)
        r.fail(w + "requant" + idx, "multiplier or shift out of range");
      l.requant.push_back(Requant{static_cast<std::int32_t>(mu), static_cast<std::int32_t>(sh)});
    }
    l.input_scale = r.real(r.field(j, "input_scale", w), w + "input_scale");
    l.output_scale = r.real(r.field(j, "output_scale", w), w + "output_scale");
    l.relu = r.boolean(j, "relu", w);

    // Regions of the three images, each with its CRC-32.
    auto region = [&](const char* key) {
      const json& e = r.field(j, key, w);
      const std::string rw = w + key + ".";
      r.only_keys(e, {"offset", "size", "crc32"}, rw);
      Region g;
      g.offset = static_cast<std::uint64_t>(
          r.integer(e, "offset", rw, 0, std::numeric_limits<std::int64_t>::max()));
      g.size = static_cast<std::uint64_t>(
          r.integer(e, "size", rw, 0, std::numeric_limits<std::int64_t>::max()));
      g.crc = read_crc(r, e, rw);
      return g;
    };
    const Region wr = region("weights");
    const Region pr = region("patterns");
    const Region cr = region("pattern_config");
    check_region(r, wr.offset, wr.size, weight_image_size(l), weights.bytes.size(), w + "weights.",
                 kWeightsFile);
    check_region(r, pr.offset, pr.size, pattern_image_size(l), patterns.bytes.size(),
                 w + "patterns.", kPatternsFile);
    check_region(r, cr.offset, cr.size, config_record_size(l), config.bytes.size(),
                 w + "pattern_config.", kConfigFile);
    if (wr.offset % static_cast<std::uint64_t>(l.row_bytes()) != 0)
      r.fail(w + "weights.offset", "not aligned to a row");
    l.weight_offset = wr.offset;
    l.pattern_offset = pr.offset;
    l.pattern_config_offset = cr.offset;
    weights.regions.push_back(wr);
    patterns.regions.push_back(pr);
    config.regions.push_back(cr);
    try {
      l.validate_parameters();  // all that the manifest alone can tell
    } catch (const Error& e) {
      throw Error(manifest_path, e.what());
    }
    out.layers.push_back(std::move(l));
  }
  check_no_overlap(r, weights, out.layers, "weights", 0);
  check_no_overlap(r, patterns, out.layers, "patterns", 0);
  check_no_overlap(r, config, out.layers, "pattern_config", kConfigHeaderBytes);

  // The bytes: a whole read takes every file and checks every region and the
  // bytes between them; a one-layer read takes and checks its layer's regions
  // only, so a run of one layer costs the same in a large model as in a small one.
  // Per layer: its regions are read (and so checked).
  std::vector<bool> read(out.layers.size(), true);
  for (std::size_t i = 0; i < out.layers.size(); ++i) {
    if (only_layer != nullptr) read[i] = *only_layer == out.layers[i].name;
    if (only_layer != nullptr || data == KernelData::packed)
      out.decoded.push_back(read[i] && data == KernelData::decoded);
  }
  if (only_layer == nullptr) {
    for (ImageFile& f : files) {
      f.reader->read(0, f.bytes.size(), f.bytes.data());
      for (std::size_t i = 0; i < out.layers.size(); ++i)
        f.check_region(f.regions[i], out.layers[i].name);
      const std::uint32_t whole = f.whole_crc();
      if (whole != f.crc)
        throw Error(f.path(), "checksum mismatch outside the layers' regions (file " +
                                  hex32(whole) + ", manifest " + hex32(f.crc) +
                                  "): the file is corrupted");
    }
  } else {
    for (std::size_t i = 0; i < out.layers.size(); ++i)
      if (read[i])
        for (ImageFile& f : files) f.read_region(f.regions[i], out.layers[i].name);
  }

  for (std::size_t i = 0; i < out.layers.size(); ++i) {
    SpmLayer& l = out.layers[i];
    if (read[i]) {
      // The Pattern Config record must agree with the manifest.
      const std::uint8_t* c = config.bytes.data();
      const std::size_t c0 = static_cast<std::size_t>(l.pattern_config_offset);
      bool same_record = get_u16(c, c0) == static_cast<std::uint32_t>(l.n) &&
                         get_u16(c, c0 + 2) == l.patterns.size() &&
                         get_u16(c, c0 + 4) == static_cast<std::uint32_t>(l.geom.kernel_size()) &&
                         c[c0 + 6] == (l.pattern_pruned ? 1 : 0) && c[c0 + 7] == l.index_bits();
      for (std::size_t p = 0; same_record && p < l.patterns.size(); ++p)
        same_record = get_u16(c, c0 + kConfigRecordHeaderBytes + 2 * p) == l.patterns[p];
      if (!same_record)
        throw Error(config.path(), "record of layer '" + l.name + "' differs from the manifest");
      // Rebuild the non-zeros and the SPM indices, or (packed) check the
      // indices where they lie; the rest of validate() holds by construction
      // (the regions' sizes follow from the shape).
      const std::uint8_t* pbase = patterns.bytes.data() + l.pattern_offset;
      const auto psize = static_cast<std::size_t>(patterns.regions[i].size);
      try {
        if (data == KernelData::packed) {
          check_packed_indices(l, pbase, psize);
        } else {
          rebuild_kernel_data(l, weights.bytes.data() + l.weight_offset, pbase, psize);
        }
      } catch (const Error& e) {
        throw Error(manifest_path, e.what());
      }
    }
  }
  out.files = std::make_shared<const ImageFiles>(
      ImageFiles{std::move(weights.bytes), std::move(patterns.bytes),
                 std::vector<std::uint8_t>(config.bytes.begin(), config.bytes.end())});
  return out;
}

}  // namespace

ModelImages read_model_images(const std::string& dir, KernelData data) {
  return read_images(dir, nullptr, data);
}

ModelImages read_model_images(const std::string& dir, const std::string& layer) {
  return read_images(dir, &layer, KernelData::decoded);
}

void decode_kernel_data(SpmLayer& layer, const ImageFiles& files) {
  const std::uint64_t wsize = weight_image_size(layer), psize = pattern_image_size(layer);
  if (layer.weight_offset > files.weights.size() ||
      wsize > files.weights.size() - layer.weight_offset ||
      layer.pattern_offset > files.patterns.size() ||
      psize > files.patterns.size() - layer.pattern_offset)
    throw Error("layer '" + layer.name + "'", "its image regions lie beyond the image files");
  rebuild_kernel_data(layer, files.weights.data() + layer.weight_offset,
                      files.patterns.data() + layer.pattern_offset,
                      static_cast<std::size_t>(psize));
}

}  // namespace pcnn
