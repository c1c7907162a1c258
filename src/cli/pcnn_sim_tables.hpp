#pragma once
// A table that `pcnn-sim run` prints both per layer and, with --network, per
// operator (README "The run tables").
#include <string>
#include <vector>

#include "pcnn/sim/sim_types.hpp"

// One row: a layer's, an operator's or the total's name and statistics.
struct StatsTableRow {
  std::string name;
  const pcnn::LayerStats* stats;
};

// MACs issued and effectual, PE-group stall cycles by reason and KiB read +
// written per memory, one line per row, under a header whose first column is
// `name_column` ("layer", "node").
void print_work_and_traffic_table(const char* name_column, const std::vector<StatsTableRow>& rows);
