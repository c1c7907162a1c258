// The statistics schema (stats_schema.hpp) is the one list of stall reasons,
// memories, actions and energy columns: every counter of StallCycles and
// DatapathActions has its entry, and every entry reaches the counters' JSON, the
// run CSV, the sweep CSV and the stall attribution. A counter added to a struct
// but not to the schema, or a schema entry one of the writers skips, fails here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pe_core/stall_attribution.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/sim/result_csv.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sweep/sweep_runner.hpp"

namespace {

// The field under `column` of a CSV row with header `header`.
std::string field(const std::vector<std::string>& header, const std::vector<std::string>& row,
                  const std::string& column) {
  const auto it = std::find(header.begin(), header.end(), column);
  REQUIRE(it != header.end());
  REQUIRE(header.size() == row.size());
  return row[static_cast<std::size_t>(it - header.begin())];
}

// A layer whose every counter holds a different value.
pcnn::LayerStats distinct_counts() {
  pcnn::LayerStats s;
  std::uint64_t v = 1000;
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) s.stalls.*f.cycles = v++;
  for (const pcnn::MemoryField& m : pcnn::kMemories) {
    (s.*m.traffic).bytes_read = v++;
    (s.*m.traffic).bytes_written = v++;
  }
  for (const pcnn::DatapathActionField& f : pcnn::kDatapathActions) s.actions.*f.count = v++;
  s.macs_issued = v++;
  s.macs_effectual = v++;
  s.refills = v++;
  s.pattern_decodes = v++;
  s.mac_cycles = v++;
  s.cycles = s.mac_cycles + s.stalls.total();
  s.time_ns = 10.0 / 3.0 * static_cast<double>(s.cycles);
  s.dense_macs = static_cast<std::int64_t>(v++);
  s.energy = pcnn::layer_energy(s, pcnn::resolve_energy(pcnn::ArchConfig{}));
  return s;
}

}  // namespace

TEST_CASE("every stall and datapath counter has one schema entry", "[schema]") {
  // A new member of StallCycles or DatapathActions changes the size; its table must grow too.
  CHECK(sizeof(pcnn::StallCycles) == pcnn::kStallReasons.size() * sizeof(std::uint64_t));
  CHECK(sizeof(pcnn::DatapathActions) == pcnn::kDatapathActions.size() * sizeof(std::uint64_t));
  std::set<std::string> keys, short_names;
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) {
    keys.insert(f.key);
    short_names.insert(f.short_name);
    CHECK(std::string(f.label).size() > 0);
    CHECK(std::string(f.description).size() > 0);
  }
  CHECK(keys.size() == pcnn::kStallReasons.size());
  CHECK(short_names.size() == pcnn::kStallReasons.size());
  // Every stall member is a different counter.
  pcnn::StallCycles s;
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) ++(s.*f.cycles);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) CHECK(s.*f.cycles == 1);
  CHECK(s.total() == pcnn::kStallReasons.size());
  // Every datapath counter is an action the energy model sees.
  std::set<std::string> actions;
  for (const pcnn::ActionField& a : pcnn::kActions) CHECK(actions.insert(a.key).second);
  for (const pcnn::DatapathActionField& f : pcnn::kDatapathActions)
    CHECK(actions.count(f.key) == 1);
}

TEST_CASE("every schema entry reaches the JSON, the run CSV and the sweep CSV", "[schema]") {
  const pcnn::LayerStats s = distinct_counts();

  // Counters' JSON, and back.
  const nlohmann::json j = pcnn::stats_to_json(s);
  const pcnn::LayerStats back = pcnn::stats_from_json(j);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) {
    INFO(f.key);
    CHECK(j.at("stall_cycles").at(f.key) == s.stalls.*f.cycles);
    CHECK(back.stalls.*f.cycles == s.stalls.*f.cycles);
  }
  for (const pcnn::ActionField& a : pcnn::kActions) {
    INFO(a.key);
    CHECK(j.at("actions").at(a.key) == a.count(s));
    CHECK(a.count(back) == a.count(s));
  }

  // add_counts adds every counter.
  pcnn::LayerStats twice = s;
  pcnn::add_counts(twice, s);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons)
    CHECK(twice.stalls.*f.cycles == 2 * (s.stalls.*f.cycles));
  for (const pcnn::ActionField& a : pcnn::kActions) CHECK(a.count(twice) == 2 * a.count(s));

  // The run CSV.
  const std::vector<std::string> header = pcnn::result_csv_header();
  const std::vector<std::string> row = pcnn::result_csv_row({"L", "0", "4", "16"}, s, 0.5, 0.125);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons)
    CHECK(field(header, row, std::string("stall_") + f.key) == std::to_string(s.stalls.*f.cycles));
  for (const pcnn::ActionField& a : pcnn::kActions)
    CHECK(field(header, row, a.key) == std::to_string(a.count(s)));
  for (const pcnn::ComponentInfo& c : pcnn::kComponents)
    CHECK(std::stod(field(header, row, std::string("energy_") + c.key + "_pj")) ==
          Approx(s.energy.component_pj(c.id)));
  for (const pcnn::EnergyTotalField& t : pcnn::kEnergyTotals)
    CHECK(std::stod(field(header, row, t.key)) == Approx(t.value(s.energy)));

  // The sweep CSV, from the run JSON of a one-layer run.
  const nlohmann::json run = {{"layers", nlohmann::json::array({{{"stats", j}}})},
                              {"total",
                               {{"cycles", s.cycles},
                                {"time_ns", s.time_ns},
                                {"lane_utilisation", 0.5},
                                {"energy", pcnn::energy_report_json(s.energy)},
                                {"energy_per_inference_uj", s.energy.total_pj() / 1e6}}}};
  const std::vector<std::string> sweep_header = pcnn::sweep_result_columns();
  const std::vector<std::string> sweep_row = pcnn::sweep_result_fields(run, 1.5);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons)
    CHECK(field(sweep_header, sweep_row, std::string("stall_") + f.key) ==
          std::to_string(s.stalls.*f.cycles));
  for (const pcnn::MemoryField& m : pcnn::kMemories)
    CHECK(field(sweep_header, sweep_row, std::string(m.key) + "_bytes") ==
          std::to_string((s.*m.traffic).bytes_read + (s.*m.traffic).bytes_written));
  for (const pcnn::ComponentInfo& c : pcnn::kComponents)
    CHECK(std::stod(field(sweep_header, sweep_row, std::string("energy_") + c.key + "_pj")) ==
          Approx(s.energy.component_pj(c.id)).epsilon(1e-6));
  for (const pcnn::EnergyTotalField& t : pcnn::kEnergyTotals)
    CHECK(std::stod(field(sweep_header, sweep_row, t.key)) ==
          Approx(t.value(s.energy)).epsilon(1e-5).margin(1e-6));
  CHECK(field(sweep_header, sweep_row, "wall_s") == "1.500");
}

TEST_CASE("stall attribution books every cycle to a counter of the schema", "[schema]") {
  // Member pointers have no order: compare them by their schema index.
  auto index_of = [](pcnn::StallReason r) {
    for (std::size_t i = 0; i < pcnn::kStallReasons.size(); ++i)
      if (pcnn::kStallReasons[i].cycles == r) return static_cast<int>(i);
    return -1;
  };
  std::vector<pcnn::StallReason> controller = {nullptr};
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) controller.push_back(f.cycles);
  std::set<int> booked;
  for (const pcnn::StallReason c : controller) {
    for (int bits = 0; bits < 32; ++bits) {
      pcnn::PipelineView v;
      v.s1_valid = bits & 1;
      v.s1_first = bits & 2;
      v.s2_valid = bits & 4;
      v.s1_wait_dram = bits & 8;
      v.ctrl_active = bits & 16;
      const pcnn::StallReason r = pcnn::stall_reason(c, v);
      REQUIRE(index_of(r) >= 0);
      if (c != nullptr) CHECK(r == c);  // the controller's phase decides first
      booked.insert(index_of(r));
      pcnn::StallCycles s;
      pcnn::attribute_stall(c, v, s);
      CHECK(s.total() == 1);
      CHECK(s.*r == 1);
    }
  }
  CHECK(booked.size() == pcnn::kStallReasons.size());
}
