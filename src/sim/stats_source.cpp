#include "pcnn/sim/stats_source.hpp"

#include <systemc>

namespace pcnn {

namespace {
void walk(const sc_core::sc_object& obj, nlohmann::json& out) {
  if (const auto* src = dynamic_cast<const StatsSource*>(&obj)) out[obj.name()] = src->stats_json();
  for (const sc_core::sc_object* child : obj.get_child_objects()) walk(*child, out);
}
}  // namespace

nlohmann::json collect_stats(const sc_core::sc_object& root) {
  nlohmann::json out = nlohmann::json::object();
  walk(root, out);
  return out;
}

nlohmann::json stats_difference(const nlohmann::json& after, const nlohmann::json& before) {
  if (after.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = after.begin(); it != after.end(); ++it) {
      const auto b = before.is_object() ? before.find(it.key()) : before.end();
      out[it.key()] = (before.is_object() && b != before.end()) ? stats_difference(*it, *b) : *it;
    }
    return out;
  }
  if (after.is_number_unsigned() && before.is_number_unsigned())
    return after.get<std::uint64_t>() - before.get<std::uint64_t>();
  if (after.is_number() && before.is_number()) return after.get<double>() - before.get<double>();
  return after;
}

nlohmann::json stats_sum(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_object()) {
    nlohmann::json out = a;
    for (auto it = b.begin(); b.is_object() && it != b.end(); ++it)
      out[it.key()] = a.contains(it.key()) ? stats_sum(a[it.key()], *it) : *it;
    return out;
  }
  if (a.is_number_unsigned() && b.is_number_unsigned())
    return a.get<std::uint64_t>() + b.get<std::uint64_t>();
  if (a.is_number() && b.is_number()) return a.get<double>() + b.get<double>();
  return a;
}

}  // namespace pcnn
