#include "pcnn/prune/pattern_reuse.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace {

using nlohmann::json;

const json& member(const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key))
    throw Error(where, std::string("missing '") + key + "'");
  return obj.at(key);
}

std::int64_t integer(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_number_integer()) throw Error(where, std::string("'") + key + "' is not an integer");
  return v.get<std::int64_t>();
}

}  // namespace

ReusedPatterns read_reused_patterns(const std::string& path, const std::vector<FloatConv>& convs) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  json doc;
  try {
    doc = json::parse(text.str());
  } catch (const json::exception& e) {
    throw Error(path, std::string("not valid JSON: ") + e.what());
  }
  const json& layers = member(doc, "layers", path + ": not a pcnn-prune report");
  if (!layers.is_array()) throw Error(path, "'layers' is not an array");
  if (layers.size() != convs.size())
    throw Error(path, "holds " + std::to_string(layers.size()) + " conv layers; the model has " +
                          std::to_string(convs.size()));

  ReusedPatterns out;
  for (std::size_t l = 0; l < convs.size(); ++l) {
    const FloatConv& conv = convs[l];
    const ConvGeometry& g = conv.geom;
    const std::string where = path + ": layer " + std::to_string(l);
    const json& e = layers[l];
    const json& shape = member(e, "shape", where);
    const std::int64_t want[] = {g.in_channels, g.out_channels, g.kernel_h, g.kernel_w, g.group};
    const char* keys[] = {"in_channels", "out_channels", "kernel_h", "kernel_w", "group"};
    for (int i = 0; i < 5; ++i)
      if (integer(shape, keys[i], where + " shape") != want[i])
        throw Error(where, std::string("shape differs from the model's conv '") + conv.name +
                               "' (" + keys[i] + " " +
                               std::to_string(integer(shape, keys[i], where)) + " in the report, " +
                               std::to_string(want[i]) + " in the model)");
    const json& pruned = member(e, "pattern_pruned", where);
    if (!pruned.is_boolean()) throw Error(where, "'pattern_pruned' is not true or false");

    LayerSetting s;
    std::vector<PatternMask> table;
    const int K = g.kernel_size();
    if (!pruned.get<bool>()) {
      s.pattern_pruned = false;
      s.n = K;
      s.patterns = 0;
      s.dense_reason = "dense in the reused report";
    } else {
      if (K != 9 || g.group != 1)
        throw Error(where, "pattern-pruned in the report, but not a 3x3 conv");
      const std::int64_t n = integer(e, "n", where);
      if (n < 1 || n > K) throw Error(where, "n " + std::to_string(n) + " is outside 1..9");
      const json& kept = member(e, "kept_patterns", where);
      if (!kept.is_array() || kept.empty()) throw Error(where, "'kept_patterns' is empty");
      std::set<std::int64_t> seen;
      for (std::size_t i = 0; i < kept.size(); ++i) {
        const std::string pw = where + " kept_patterns[" + std::to_string(i) + "]";
        if (integer(kept[i], "spm_index", pw) != static_cast<std::int64_t>(i))
          throw Error(pw, "spm_index is not " + std::to_string(i));
        const std::int64_t mask = integer(kept[i], "mask", pw);
        if (mask < 0 || mask >= (1 << K) ||
            __builtin_popcountll(static_cast<unsigned long long>(mask)) != n)
          throw Error(pw, "mask " + std::to_string(mask) +
                              " does not have exactly n = " + std::to_string(n) + " of 9 bits");
        if (!seen.insert(mask).second) throw Error(pw, "mask " + std::to_string(mask) + " repeats");
        table.push_back(static_cast<PatternMask>(mask));
      }
      s.n = static_cast<int>(n);
      s.patterns = static_cast<int>(table.size());
    }
    out.settings.push_back(s);
    out.tables.push_back(std::move(table));
  }
  return out;
}

}  // namespace pcnn
