#include "pcnn_sim_tables.hpp"

#include <cstdio>

#include "pcnn/sim/stats_schema.hpp"

void print_work_and_traffic_table(const char* name_column, const std::vector<StatsTableRow>& rows) {
  std::printf("\n%-24s %11s %11s", name_column, "MACs", "effectual");
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) std::printf(" %8s", f.short_name);
  for (const pcnn::MemoryField& m : pcnn::kMemories)
    std::printf(" %9s", (std::string(m.short_name) + "_KiB").c_str());
  std::printf("\n");
  for (const StatsTableRow& row : rows) {
    const pcnn::LayerStats& s = *row.stats;
    std::printf("%-24s %11llu %11llu", row.name.c_str(),
                static_cast<unsigned long long>(s.macs_issued),
                static_cast<unsigned long long>(s.macs_effectual));
    for (const pcnn::StallReasonField& f : pcnn::kStallReasons)
      std::printf(" %8llu", static_cast<unsigned long long>(s.stalls.*f.cycles));
    for (const pcnn::MemoryField& m : pcnn::kMemories) {
      const pcnn::TrafficStats& t = s.*m.traffic;
      std::printf(" %9.1f", static_cast<double>(t.bytes_read + t.bytes_written) / 1024.0);
    }
    std::printf("\n");
  }
}
