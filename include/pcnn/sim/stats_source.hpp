#pragma once
// Modules that own statistics implement StatsSource; collect_stats() walks the
// SystemC hierarchy once and gathers every module's counters under its
// hierarchical name, e.g. {"top.weight_sram": {"bytes_read": ...}, ...}.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sc_core {
class sc_object;
}

namespace pcnn {

class StatsSource {
 public:
  virtual ~StatsSource() = default;
  // Named counters, each a number with its unit in its name.
  virtual nlohmann::json stats_json() const = 0;
};

// Every StatsSource at or below `root`, by hierarchical name.
nlohmann::json collect_stats(const sc_core::sc_object& root);

// The same collection for a hierarchy that no longer changes (after
// elaboration): its sources are found once, so each collect() only asks them
// for their counters (a layer's statistics take two collections).
class StatsCollector {
 public:
  explicit StatsCollector(const sc_core::sc_object& root);
  nlohmann::json collect() const;  // == collect_stats(root)

 private:
  std::vector<std::pair<std::string, const StatsSource*>> sources_;
};

// after - before for every number in two collections of the same shape.
nlohmann::json stats_difference(const nlohmann::json& after, const nlohmann::json& before);

// a + b for every number in two collections of the same shape.
nlohmann::json stats_sum(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace pcnn
