#pragma once
// The per-layer CSV of `pcnn-sim run --csv`: one row per layer and a total row,
// columns named after the statistics schema (stats_schema.hpp) so that scripts
// written for SCALE-Sim or Timeloop reports find cycles, stalls, traffic per
// memory and energy per component. docs/results.md lists the columns.
#include <string>
#include <vector>

#include "pcnn/sim/sim_types.hpp"

namespace pcnn {

struct LayerLabel {
  std::string name;                // "total" for the total row
  std::string index, n, patterns;  // "" where they do not apply
};

std::vector<std::string> result_csv_header();
std::vector<std::string> result_csv_row(const LayerLabel& label, const LayerStats& s,
                                        double lane_utilisation, double index_overhead);

}  // namespace pcnn
