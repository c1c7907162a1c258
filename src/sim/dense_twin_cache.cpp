#include "pcnn/sim/dense_twin_cache.hpp"

#include <sys/stat.h>

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/version.hpp"
#include "pcnn/sim/simulate.hpp"

namespace pcnn {
namespace {

constexpr char kEntryFormat[] = "pcnn-dense-twin";
constexpr int kEntryVersion = 1;

// Two 64-bit FNV-1a hashes with different offsets, mixed at the end: a
// 128-bit name, so that distinct keys never share a file in practice.
class KeyHash {
 public:
  void add(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      a_ = (a_ ^ p[i]) * 0x100000001b3ull;
      b_ = (b_ ^ p[i]) * 0x100000001b3ull;
      b_ ^= b_ >> 29;
    }
  }
  void add(const std::string& s) {
    const std::uint64_t n = s.size();
    add(&n, sizeof n);  // length first: "ab"+"c" differs from "a"+"bc"
    add(s.data(), s.size());
  }
  std::string hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(mix(a_)),
                  static_cast<unsigned long long>(mix(b_)));
    return buf;
  }

 private:
  static std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
  }
  std::uint64_t a_ = 0xcbf29ce484222325ull;
  std::uint64_t b_ = 0x84222325cbf29ce4ull;
};

// The running program's build: its version, commit and executable file
// (size and modification time), so that a rebuilt simulator never reuses
// another build's twins.
std::string build_identity() {
  std::string id = std::string(tool_version()) + " " + git_commit();
  struct stat st {};
  if (::stat("/proc/self/exe", &st) == 0)
    id += " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
          std::to_string(st.st_mtim.tv_nsec);
  return id;
}

std::string stats_checksum(const std::string& text) {
  char buf[9];
  std::snprintf(
      buf, sizeof buf, "%08lx",
      ::crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  return buf;
}

}  // namespace

std::string default_dense_twin_cache_dir() {
  if (const char* d = std::getenv("PCNN_DENSE_CACHE"))
    return std::string(d) == "off" ? "" : std::string(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && x[0] == '/')
    return std::string(x) + "/pcnn/dense-twins";
  if (const char* h = std::getenv("HOME"); h && h[0] == '/')
    return std::string(h) + "/.cache/pcnn/dense-twins";
  return "";
}

std::uint64_t dense_effectual_macs(const SpmLayer& layer, const std::vector<std::int8_t>& input) {
  const ConvGeometry& g = layer.geom;
  const int K = g.kernel_size(), Cg = g.in_channels / g.group, Mg = g.out_channels / g.group;
  const int OH = g.out_h(), OW = g.out_w();
  // Per input channel and kernel position: output positions that read a
  // non-zero input there.
  std::vector<std::uint64_t> nonzero(static_cast<std::size_t>(g.in_channels) * K, 0);
  for (int c = 0; c < g.in_channels; ++c)
    for (int kh = 0; kh < g.kernel_h; ++kh)
      for (int kw = 0; kw < g.kernel_w; ++kw) {
        std::uint64_t count = 0;
        for (int oh = 0; oh < OH; ++oh) {
          const int ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
          if (ih < 0 || ih >= g.in_h) continue;
          const std::int8_t* row = &input[(static_cast<std::size_t>(c) * g.in_h + ih) * g.in_w];
          for (int ow = 0; ow < OW; ++ow) {
            const int iw = ow * g.stride_w - g.pad_left + kw * g.dilation_w;
            count += iw >= 0 && iw < g.in_w && row[iw] != 0;
          }
        }
        nonzero[static_cast<std::size_t>(c) * K + kh * g.kernel_w + kw] = count;
      }
  const std::vector<std::int8_t> w = layer.dense_weights();  // [M][Cg][K]
  std::uint64_t macs = 0;
  for (int m = 0; m < g.out_channels; ++m) {
    const int c0 = (m / Mg) * Cg;
    for (int c = 0; c < Cg; ++c)
      for (int k = 0; k < K; ++k)
        if (w[(static_cast<std::size_t>(m) * Cg + c) * K + k] != 0)
          macs += nonzero[static_cast<std::size_t>(c0 + c) * K + k];
  }
  return macs;
}

DenseTwinCache::DenseTwinCache(std::string dir) : dir_(std::move(dir)) {}

std::string DenseTwinCache::key(const SpmLayer& layer, const std::vector<std::int8_t>& input,
                                const ArchConfig& arch, const SimOptions& options) {
  static const std::string build = build_identity();
  const ConvGeometry& g = layer.geom;
  const nlohmann::json shape = {{"format", kEntryFormat},
                                {"version", kEntryVersion},
                                {"build", build},
                                {"geometry",
                                 {g.in_channels, g.out_channels, g.in_h, g.in_w, g.kernel_h,
                                  g.kernel_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left,
                                  g.pad_bottom, g.pad_right, g.dilation_h, g.dilation_w, g.group}},
                                {"kernel_register_words", layer.kernel_register_words},
                                {"relu", layer.relu},
                                {"arch", arch_to_json(arch)},
                                {"act_mode", to_string(options.act_mode)},
                                {"timing", to_string(options.timing)},
                                {"skip_idle_edges", options.skip_idle_edges}};
  KeyHash h;
  h.add(shape.dump());
  const std::uint64_t n = input.size();
  h.add(&n, sizeof n);
  h.add(input.data(), input.size());
  return h.hex();
}

std::string DenseTwinCache::entry_path(const std::string& key) const {
  return dir_ + "/" + key + ".json";
}

std::optional<LayerStats> DenseTwinCache::read_entry(const std::string& key) const {
  if (dir_.empty()) return std::nullopt;
  const std::string path = entry_path(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  try {  // anything wrong with an entry makes it a miss
    const nlohmann::json e = read_json_file(path, "a dense-twin cache entry");
    if (e.at("format") != kEntryFormat || e.at("version") != kEntryVersion || e.at("key") != key)
      return std::nullopt;
    const nlohmann::json& stats = e.at("stats");
    if (e.at("checksum") != stats_checksum(stats.dump())) return std::nullopt;
    return stats_from_json(stats);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<LayerStats> DenseTwinCache::find(const std::string& key, const SpmLayer& layer,
                                               const std::vector<std::int8_t>& input) {
  auto it = memory_.find(key);
  if (it == memory_.end()) {
    std::optional<LayerStats> s = read_entry(key);
    if (!s) return std::nullopt;
    it = memory_.emplace(key, *s).first;
  }
  ++hits_;
  LayerStats s = it->second;
  s.macs_effectual = dense_effectual_macs(layer, input);
  return s;
}

void DenseTwinCache::store(const std::string& key, const LayerStats& stats) {
  memory_[key] = stats;
  if (dir_.empty()) return;
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    const nlohmann::json j = stats_to_json(stats);
    const nlohmann::json e = {{"format", kEntryFormat},
                              {"version", kEntryVersion},
                              {"key", key},
                              {"stats", j},
                              {"checksum", stats_checksum(j.dump())}};
    write_output_file(entry_path(key), e.dump() + "\n", "a dense-twin cache entry");
  } catch (const std::exception&) {
    // An unwritable cache only loses the reuse; the run's results are complete.
  }
}

}  // namespace pcnn
