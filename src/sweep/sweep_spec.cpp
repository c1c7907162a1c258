#include "pcnn/sweep/sweep_spec.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/json_object_reader.hpp"
#include "pcnn/image/model_images.hpp"

namespace pcnn {

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// Relative paths in a sweep file are relative to the file, so a sweep runs the
// same from any working directory (and on any Slurm node).
std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return base_dir + "/" + p;
}

std::string read_text_file(const std::string& path, const std::string& what) {
  return read_input_file(path, what, std::uint64_t{1} << 26);
}

nlohmann::json parse_json(const std::string& text, const std::string& path) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error(path, "not valid JSON");
  }
}

// MACs of the stored weights: n per pattern-pruned kernel, K per dense one.
std::uint64_t stored_macs(const SpmLayer& l) {
  const std::uint64_t per_kernel =
      static_cast<std::uint64_t>(l.pattern_pruned ? l.n : l.geom.kernel_size());
  return per_kernel * static_cast<std::uint64_t>(l.geom.kernel_count()) *
         static_cast<std::uint64_t>(l.geom.out_h()) * static_cast<std::uint64_t>(l.geom.out_w());
}

// "weight_sram.size_bytes" -> "/weight_sram/size_bytes".
// "~" and "/" inside a key are escaped (RFC 6901), so such a key names no
// parameter instead of being an invalid pointer.
nlohmann::json::json_pointer pointer_for(const std::string& key) {
  std::string p = "/";
  for (const char c : key) {
    if (c == '.')
      p += '/';
    else if (c == '~')
      p += "~0";
    else if (c == '/')
      p += "~1";
    else
      p += c;
  }
  return nlohmann::json::json_pointer(p);
}

}  // namespace

std::string content_fingerprint(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::size_t SweepSpec::point_count() const {
  std::size_t n = workloads.size() * act_modes.size();
  for (const SweepAxis& a : grid) n *= a.values.size();
  return n;
}

SweepPoint SweepSpec::point(std::size_t index) const {
  SweepPoint p;
  p.index = index;
  std::size_t rest = index;
  p.act_mode = act_modes[rest % act_modes.size()];
  rest /= act_modes.size();
  p.params.resize(grid.size());
  for (std::size_t a = grid.size(); a-- > 0;) {
    p.params[a] = {grid[a].key, grid[a].values[rest % grid[a].values.size()]};
    rest /= grid[a].values.size();
  }
  p.workload = rest;
  p.arch_json = base_arch;
  for (const auto& [key, value] : p.params) p.arch_json[pointer_for(key)] = value;
  return p;
}

std::string SweepSpec::label(const SweepPoint& p) const {
  std::string s = path + ": point " + std::to_string(p.index) + " (" + workloads[p.workload].name;
  for (const auto& [key, value] : p.params) s += ", " + key + "=" + value.dump();
  return s + ", act_mode=" + to_string(p.act_mode) + ")";
}

SweepSpec read_sweep_file(const std::string& path) {
  const std::string text = read_text_file(path, "sweep file");
  const nlohmann::json j = parse_json(text, path);
  std::string identity = "pcnn sweep 1\n" + text + "\n";
  const std::string dir = directory_of(path);
  SweepSpec spec;
  spec.path = path;
  JsonObjectReader top(j, path, "");

  // Workloads.
  const nlohmann::json* workloads = top.object("workloads");
  if (!workloads || !workloads->is_array() || workloads->empty())
    throw Error(path, "workloads: expected a non-empty array of workload objects");
  std::set<std::string> names;
  for (std::size_t i = 0; i < workloads->size(); ++i) {
    const std::string prefix = "workloads[" + std::to_string(i) + "].";
    JsonObjectReader r((*workloads)[i], path, prefix);
    SweepWorkload w;
    r.get("name", w.name);
    r.get("images", w.images);
    r.get("layer", w.layer);
    r.get("act_density", w.act_density);
    r.get("seed", w.seed);
    r.finish();
    if (w.images.empty()) r.fail(prefix + "images", "missing (an SPM image directory)");
    if (!(w.act_density >= 0.0 && w.act_density <= 1.0))
      r.fail(prefix + "act_density", "must be in 0..1");
    w.images = resolve(dir, w.images);
    if (w.name.empty()) w.name = w.images.substr(w.images.find_last_of('/') + 1);
    if (!names.insert(w.name).second) r.fail(prefix + "name", "'" + w.name + "' is used twice");
    ModelImages images;
    try {
      images = read_model_images(w.images);
    } catch (const Error& e) {
      r.fail(prefix + "images", e.what());
    }
    for (const SpmLayer& l : images.layers)
      if (w.layer.empty() || l.name == w.layer) {
        ++w.layers_run;
        w.macs_run += stored_macs(l);
        w.dense_macs_run += static_cast<std::uint64_t>(l.geom.dense_macs());
      }
    if (w.layers_run == 0)
      r.fail(prefix + "layer", "no layer named '" + w.layer + "' in " + w.images);
    identity += images.identity + "\n";
    spec.workloads.push_back(std::move(w));
  }

  // Base architecture: a file, an inline object, or the defaults.
  ArchConfig base;
  if (const nlohmann::json* arch = top.object("arch")) {
    if (arch->is_string()) {
      base = read_arch_file(resolve(dir, arch->get<std::string>()));
    } else if (arch->is_object()) {
      base = arch_from_json(*arch, path + ": arch");
    } else {
      top.fail("arch", "expected an architecture file name or an architecture object");
    }
  }
  spec.base_arch = arch_to_json(base);
  identity += spec.base_arch.dump() + "\n";

  // Grid axes in the keys' sorted order (nlohmann::json keeps objects sorted);
  // the order only decides the point numbering.
  if (const nlohmann::json* grid = top.object("grid")) {
    if (!grid->is_object()) top.fail("grid", "expected an object of parameter: [values]");
    for (auto it = grid->begin(); it != grid->end(); ++it) {
      const std::string key = "grid." + it.key();
      const auto ptr = pointer_for(it.key());
      if (it.key().empty() || !spec.base_arch.contains(ptr) || spec.base_arch[ptr].is_object())
        top.fail(key, "not an architecture parameter (see docs/architecture.md)");
      if (!it->is_array() || it->empty()) top.fail(key, "expected a non-empty array of values");
      SweepAxis axis{it.key(), {}};
      for (const nlohmann::json& v : *it) {
        if (v.is_object() || v.is_array() || v.is_null())
          top.fail(key, "values must be numbers or booleans");
        axis.values.push_back(v);
      }
      spec.grid.push_back(std::move(axis));
    }
  }

  if (const nlohmann::json* modes = top.object("act_modes")) {
    if (!modes->is_array() || modes->empty())
      top.fail("act_modes", "expected a non-empty array of off, gate, skip");
    spec.act_modes.clear();
    for (const nlohmann::json& m : *modes) {
      if (!m.is_string()) top.fail("act_modes", "expected a non-empty array of off, gate, skip");
      try {
        spec.act_modes.push_back(parse_act_mode(m.get<std::string>()));
      } catch (const Error&) {
        top.fail("act_modes", "'" + m.get<std::string>() + "' is not one of off, gate, skip");
      }
    }
  }
  top.get("dense_baseline", spec.dense_baseline);
  top.finish();

  // Size, then every point's architecture (combinations can be invalid even
  // when each value is fine, e.g. a Weight SRAM too small for more PEs).
  std::size_t count = spec.workloads.size() * spec.act_modes.size();
  for (const SweepAxis& a : spec.grid) {
    count *= a.values.size();
    if (count > kMaxSweepPoints)
      throw Error(path,
                  "more than " + std::to_string(kMaxSweepPoints) + " points; split the sweep");
  }
  const std::size_t per_workload = count / spec.workloads.size();
  for (std::size_t i = 0; i < per_workload; i += spec.act_modes.size()) {
    const SweepPoint p = spec.point(i);
    arch_from_json(p.arch_json, spec.label(p));
  }
  spec.fingerprint = content_fingerprint(identity);
  return spec;
}

}  // namespace pcnn
