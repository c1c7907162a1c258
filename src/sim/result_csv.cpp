#include "pcnn/sim/result_csv.hpp"

#include <cstdio>

#include "pcnn/sim/stats_schema.hpp"

namespace pcnn {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::vector<std::string> result_csv_header() {
  std::vector<std::string> h = {"layer",  "layer_index", "n",          "patterns",
                                "cycles", "time_ns",     "mac_cycles", "stall_cycles"};
  for (const StallReasonField& f : kStallReasons) h.push_back(std::string("stall_") + f.key);
  h.insert(h.end(), {"lane_utilisation", "dense_macs"});
  for (const ActionField& a : kActions) h.push_back(a.key);
  for (const std::string& c : energy_csv_columns()) h.push_back(c);
  h.insert(h.end(), {"pj_per_mac", "index_overhead"});
  return h;
}

std::vector<std::string> result_csv_row(const LayerLabel& label, const LayerStats& s,
                                        double lane_utilisation, double index_overhead) {
  std::vector<std::string> r = {label.name,
                                label.index,
                                label.n,
                                label.patterns,
                                std::to_string(s.cycles),
                                number(s.time_ns),
                                std::to_string(s.mac_cycles),
                                std::to_string(s.stalls.total())};
  for (const StallReasonField& f : kStallReasons) r.push_back(std::to_string(s.stalls.*f.cycles));
  r.push_back(number(lane_utilisation));
  r.push_back(std::to_string(s.dense_macs));
  for (const ActionField& a : kActions) r.push_back(std::to_string(a.count(s)));
  const EnergyReport& e = s.energy;
  for (double v : energy_csv_values(e)) r.push_back(number(v));
  const double pj_per_mac =
      s.macs_issued ? e.on_chip_pj() / static_cast<double>(s.macs_issued) : 0.0;
  r.insert(r.end(), {number(pj_per_mac), number(index_overhead)});
  return r;
}

}  // namespace pcnn
