#include "pcnn/sim/stats_source.hpp"

#include <systemc>

namespace pcnn {

namespace {
void walk(const sc_core::sc_object& obj,
          std::vector<std::pair<std::string, const StatsSource*>>& out) {
  if (const auto* src = dynamic_cast<const StatsSource*>(&obj)) out.emplace_back(obj.name(), src);
  for (const sc_core::sc_object* child : obj.get_child_objects()) walk(*child, out);
}
}  // namespace

StatsCollector::StatsCollector(const sc_core::sc_object& root) { walk(root, sources_); }

nlohmann::json StatsCollector::collect() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, source] : sources_) out[name] = source->stats_json();
  return out;
}

nlohmann::json collect_stats(const sc_core::sc_object& root) {
  return StatsCollector(root).collect();
}

namespace {

// Applies op to every pair of numbers at the same place in a and b. Keys only
// in a are kept; keys only in b are added when keep_b_only (sums) and ignored
// otherwise (differences against an earlier, smaller snapshot).
template <typename Op>
nlohmann::json combine(const nlohmann::json& a, const nlohmann::json& b, Op op, bool keep_b_only) {
  if (a.is_object()) {
    if (!b.is_object()) return a;
    // Built key by key (not a copy of a with its values replaced): each value
    // is made once.
    nlohmann::json out = nlohmann::json::object();
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      out[it.key()] = other != b.end() ? combine(*it, *other, op, keep_b_only) : *it;
    }
    if (keep_b_only)
      for (auto it = b.begin(); it != b.end(); ++it)
        if (!a.contains(it.key())) out[it.key()] = *it;
    return out;
  }
  if (a.is_number_unsigned() && b.is_number_unsigned())
    return op(a.get<std::uint64_t>(), b.get<std::uint64_t>());
  if (a.is_number() && b.is_number()) return op(a.get<double>(), b.get<double>());
  return a;
}

}  // namespace

nlohmann::json stats_difference(const nlohmann::json& after, const nlohmann::json& before) {
  return combine(
      after, before, [](auto x, auto y) { return x - y; }, false);
}

nlohmann::json stats_sum(const nlohmann::json& a, const nlohmann::json& b) {
  return combine(
      a, b, [](auto x, auto y) { return x + y; }, true);
}

}  // namespace pcnn
