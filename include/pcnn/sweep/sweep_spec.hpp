#pragma once
// An architecture sweep read from JSON (docs/sweeps.md): workloads (SPM image
// directories) crossed with a grid of architecture parameters and activation
// modes. Every point is one `pcnn-sim run` in its own process, because a
// SystemC simulation elaborates once per process.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

struct SweepWorkload {
  std::string name;
  std::string images;  // image directory, resolved against the sweep file's directory
  std::string layer;   // one layer, or "" for every layer
  double act_density = 0.5;
  std::uint64_t seed = 1;
  // What one run of the workload simulates, for the shards' cost estimate.
  int layers_run = 0;
  std::uint64_t macs_run = 0;        // MACs of the stored (pruned) weights over those layers
  std::uint64_t dense_macs_run = 0;  // MACs of the same layers dense
};

// One architecture parameter and the values it takes, e.g. "weight_sram.size_bytes".
struct SweepAxis {
  std::string key;
  std::vector<nlohmann::json> values;
};

struct SweepPoint {
  std::size_t index = 0;
  std::size_t workload = 0;                                    // index into SweepSpec::workloads
  std::vector<std::pair<std::string, nlohmann::json>> params;  // one value per axis
  ActMode act_mode = ActMode::off;
  nlohmann::json arch_json;  // base architecture with params applied
};

struct SweepSpec {
  std::string path;  // the sweep file, named in messages
  // 16 hex digits identifying what the points compute: the sweep file's bytes,
  // the resolved base architecture and each workload's image identity (a
  // checksum over its images). Paths do not enter, so it is the same from any
  // directory or node.
  std::string fingerprint;
  std::vector<SweepWorkload> workloads;
  nlohmann::json base_arch;  // resolved architecture JSON every point starts from
  std::vector<SweepAxis> grid;
  std::vector<ActMode> act_modes{ActMode::off};
  bool dense_baseline = true;  // also simulate each layer dense (speedup column)
  // How the points are clocked (pcnn-sim sweep --timing; not a key of the file):
  // the fast mode by default, whose results equal the cycle-level mode's.
  Timing timing = Timing::lt;

  // Points are numbered workload-major, then grid axes (sorted by key), then act mode.
  std::size_t point_count() const;
  SweepPoint point(std::size_t index) const;
  // "<file>: point N (workload, key=value, ..., act_mode=off)", to name a point in messages.
  std::string label(const SweepPoint& p) const;
};

// Reads and checks a sweep file: unknown keys, wrong types, missing image
// directories, unknown layers and every point's architecture are checked here,
// so a sweep does not fail half-way on bad input. Throws pcnn::Error naming the
// file and the key.
SweepSpec read_sweep_file(const std::string& path);

// 16 hex digits of the 64-bit FNV-1a hash of the bytes: detects changes, not
// tampering.
std::string content_fingerprint(const std::string& bytes);

// The limit on points in one sweep file.
constexpr std::size_t kMaxSweepPoints = 100000;

}  // namespace pcnn
