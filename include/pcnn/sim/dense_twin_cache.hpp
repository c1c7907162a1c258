#pragma once
// Statistics of dense twins, computed once and reused.
//
// A layer's dense twin (dense_equivalent: the same layer stored with all K
// weights per kernel) runs on the same array with the same input to give the
// speedup's baseline. Its statistics depend on the layer's shape, the
// architecture, the activation mode and the input, but not on the weight
// values, with one exception: the effectual-MAC count, which
// dense_effectual_macs() recomputes for each layer's own weights. So the
// twin of a layer is shared by every run and sweep point with that shape,
// architecture and input: the n = 1, 2 and 4 images of one model, a
// one-layer workload and the whole network, a rerun.
//
// The cache keeps the twins in memory and, when given a folder, as one small
// JSON file per twin named by the key's hash (written with OutputFile, so an
// entry is whole or absent). An entry that does not parse, names another key
// or fails its checksum is ignored and recomputed. The cache never fails a
// run: a folder that cannot be made or written only loses the reuse.
//
//   pcnn::DenseTwinCache cache(pcnn::default_dense_twin_cache_dir());
//   const std::string key = pcnn::DenseTwinCache::key(job.layer, job.input, arch, opt);
//   if (auto s = cache.find(key, job.layer, job.input)) ... else simulate, cache.store(key, s);
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

// The folder pcnn-sim keeps dense twins in: $PCNN_DENSE_CACHE when set
// ("off": none), else $XDG_CACHE_HOME/pcnn/dense-twins, else
// $HOME/.cache/pcnn/dense-twins; empty when there is none.
std::string default_dense_twin_cache_dir();

// MACs with a non-zero weight and a non-zero input that the dense form of
// `layer` performs on `input` ([C][H][W]); padding counts as zero input.
std::uint64_t dense_effectual_macs(const SpmLayer& layer, const std::vector<std::int8_t>& input);

class DenseTwinCache {
 public:
  // `dir` empty: in memory only. The folder is created on the first store().
  explicit DenseTwinCache(std::string dir = "");

  // Hash (32 hex digits) of everything that decides the twin's statistics:
  // the program build, the layer's shape and storage parameters (not its
  // weight values), the input, the architecture and the simulation options.
  static std::string key(const SpmLayer& layer, const std::vector<std::int8_t>& input,
                         const ArchConfig& arch, const SimOptions& options);

  // The twin's statistics for `layer` (its effectual MACs recomputed for its
  // weights), or nothing when the key is not cached.
  std::optional<LayerStats> find(const std::string& key, const SpmLayer& layer,
                                 const std::vector<std::int8_t>& input);
  void store(const std::string& key, const LayerStats& stats);

  const std::string& dir() const { return dir_; }
  std::size_t hits() const { return hits_; }

 private:
  std::string entry_path(const std::string& key) const;
  std::optional<LayerStats> read_entry(const std::string& key) const;

  std::string dir_;
  std::map<std::string, LayerStats> memory_;
  std::size_t hits_ = 0;
};

}  // namespace pcnn
