#include "pcnn/prune/layer_settings.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/prune/patterns.hpp"

namespace pcnn {
namespace {

using nlohmann::json;

int read_int(const json& v, const std::string& where) {
  if (!v.is_number_integer()) throw Error(where, "expected an integer, got " + v.dump());
  const auto x = v.get<std::int64_t>();
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
    throw Error(where, "integer " + v.dump() + " out of range");
  return static_cast<int>(x);
}

int read_budget(const json& v, const std::string& where) {
  if (v.is_string()) return parse_pattern_budget(v.get<std::string>(), where);
  const int x = read_int(v, where);
  if (x < 1) throw Error(where, std::to_string(x) + " is not a positive pattern count");
  return x;
}

int resolve_budget(int budget, int K, int n, const std::string& where) {
  const auto full = binomial(K, n);
  if (budget == kPatternsFull) return static_cast<int>(full);
  if (budget == kPatternsDefault) return static_cast<int>(std::min<std::int64_t>(16, full));
  if (budget < 1 || budget > full)
    throw Error(where, std::to_string(budget) + " is outside 1.." + std::to_string(full) + " = C(" +
                           std::to_string(K) + ", " + std::to_string(n) + ")");
  return budget;
}

}  // namespace

int parse_pattern_budget(const std::string& text, const std::string& where) {
  if (text == "full") return kPatternsFull;
  std::size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty())
    throw Error(where, "'" + text + "' is neither a pattern count nor 'full'");
  if (v < 1 || v > 1 << 16) throw Error(where, text + " is not a positive pattern count");
  return static_cast<int>(v);
}

std::vector<LayerOverride> read_layer_overrides(const std::string& path) {
  const json doc = read_json_file(path, "layers file");
  if (!doc.is_object()) throw Error(path, "expected a JSON object with key 'layers'");
  for (const auto& item : doc.items())
    if (item.key() != "layers") throw Error(path, "unknown key '" + item.key() + "'");
  if (!doc.contains("layers")) throw Error(path, "missing key 'layers'");
  const json& list = doc["layers"];
  if (!list.is_array()) throw Error(path, "'layers' must be an array of objects");

  std::vector<LayerOverride> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = path + ": layers[" + std::to_string(i) + "]";
    const json& e = list[i];
    if (!e.is_object()) throw Error(where, "expected an object");
    LayerOverride o;
    o.where = where;
    for (const auto& item : e.items()) {
      const std::string& key = item.key();
      const std::string kw = where + "." + key;
      if (key == "name") {
        if (!item.value().is_string()) throw Error(kw, "expected a string");
        o.name = item.value().get<std::string>();
      } else if (key == "index") {
        o.index = read_int(item.value(), kw);
        if (*o.index < 0) throw Error(kw, "must not be negative");
      } else if (key == "n") {
        o.n = read_int(item.value(), kw);
      } else if (key == "patterns") {
        o.patterns = read_budget(item.value(), kw);
      } else if (key == "dense") {
        if (!item.value().is_boolean()) throw Error(kw, "expected true or false");
        o.dense = item.value().get<bool>();
      } else {
        throw Error(where, "unknown key '" + key + "'");
      }
    }
    if (o.name.has_value() == o.index.has_value())
      throw Error(where, "needs exactly one of 'name' and 'index'");
    if (o.dense && (o.n || o.patterns))
      throw Error(where, "'dense' cannot be combined with 'n' or 'patterns'");
    if (!o.dense && !o.n && !o.patterns)
      throw Error(where, "sets none of 'n', 'patterns', 'dense'");
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<LayerSetting> resolve_layer_settings(const std::vector<FloatConv>& convs, int global_n,
                                                 int global_patterns,
                                                 const std::vector<LayerOverride>& overrides) {
  const int K = kPatternKernelPositions;
  if (global_n < 1 || global_n > K)
    throw Error("--n", std::to_string(global_n) + " is outside 1.." + std::to_string(K));
  resolve_budget(global_patterns, K, global_n, "--patterns");

  // Match each override to exactly one layer.
  std::vector<const LayerOverride*> chosen(convs.size(), nullptr);
  for (const LayerOverride& o : overrides) {
    std::size_t hit = convs.size();
    if (o.index) {
      if (*o.index >= static_cast<int>(convs.size()))
        throw Error(o.where, "no conv layer with index " + std::to_string(*o.index) +
                                 " (the model has " + std::to_string(convs.size()) + ")");
      hit = static_cast<std::size_t>(*o.index);
    } else {
      for (std::size_t i = 0; i < convs.size(); ++i)
        if (convs[i].name == *o.name) hit = i;
      if (hit == convs.size()) throw Error(o.where, "no conv layer named '" + *o.name + "'");
    }
    if (chosen[hit])
      throw Error(o.where, "layer '" + convs[hit].name + "' is already set by " +
                               chosen[hit]->where.substr(chosen[hit]->where.rfind(' ') + 1));
    chosen[hit] = &o;
  }

  std::vector<LayerSetting> out(convs.size());
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const ConvGeometry& g = convs[i].geom;
    LayerSetting& s = out[i];
    const LayerOverride* o = chosen[i];
    const bool prunable = g.pattern_prunable();
    if (!prunable || (o && o->dense)) {
      if (!prunable && o && !o->dense)
        throw Error(o->where, "layer '" + convs[i].name +
                                  "' is not a 3x3 conv with group 1 and cannot be pattern-pruned");
      s.pattern_pruned = false;
      s.n = g.kernel_size();
      s.patterns = 0;
      if (!prunable)
        s.dense_reason = "kernel " + std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) +
                         ", group " + std::to_string(g.group) + ": not a 3x3 conv with group 1";
      else
        s.dense_reason = "kept dense by " + o->where;
      continue;
    }
    s.n = global_n;
    int budget = global_patterns;
    std::string budget_where = "--patterns";
    if (o && o->n) {
      if (*o->n < 1 || *o->n > K)
        throw Error(o->where + ".n", std::to_string(*o->n) + " is outside 1.." + std::to_string(K));
      s.n = *o->n;
    }
    if (o && o->patterns) {
      budget = *o->patterns;
      budget_where = o->where + ".patterns";
    } else if (o) {
      budget_where = o->where + " (pattern budget from --patterns)";
    }
    s.patterns = resolve_budget(budget, K, s.n, budget_where);
  }
  return out;
}

}  // namespace pcnn
