// Regression of the timing model: a small fixed network (seeded layers and
// inputs) on the default and the small-buffer architecture in every activation
// mode; cycles, stalls by reason, MACs, refills and traffic per memory must
// equal the recorded values in tests/data/regression_small_network.json.
// After an intended timing change, rerun with PCNN_UPDATE_REGRESSION=1 to
// rewrite the file, and explain the change in the commit.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

const std::string kRecordFile =
    std::string(PCNN_SOURCE_DIR) + "/tests/data/regression_small_network.json";

std::vector<pcnn::LayerJob> small_network() {
  std::mt19937_64 rng(2024);
  struct Shape {
    int c, m, hw, k, stride, n, v;
  };
  const Shape shapes[] = {{3, 16, 16, 3, 1, 4, 16},  {16, 32, 16, 3, 2, 3, 8},
                          {32, 70, 8, 3, 1, 2, 32},  {70, 24, 8, 1, 1, 1, 1},
                          {24, 130, 6, 3, 1, 1, 8}};
  std::vector<pcnn::LayerJob> jobs;
  int i = 0;
  for (const Shape& s : shapes) {
    pcnn::ConvGeometry g;
    g.in_channels = s.c;
    g.out_channels = s.m;
    g.in_h = g.in_w = s.hw;
    g.kernel_h = g.kernel_w = s.k;
    g.stride_h = g.stride_w = s.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = s.k / 2;
    pcnn::LayerJob job;
    job.layer = pcnn::make_layer_with_geometry(g, s.n, s.v, true, rng, "layer" + std::to_string(i));
    job.input = pcnn::random_activations(g.input_elements(), 0.5, i > 0, rng);
    jobs.push_back(std::move(job));
    ++i;
  }
  return jobs;
}

nlohmann::json record_of(const pcnn::LayerStats& s) {
  nlohmann::json j = pcnn::stats_to_json(s);
  j.erase("time_ns");  // derived from cycles
  j.erase("lane_utilisation");
  j.erase("energy");  // derived from the counts by the energy model (tests/test_energy.cpp)
  return j;
}

}  // namespace

TEST_CASE("timing regression: a small network on two architectures, every mode",
          "[sim][regression]") {
  const std::vector<pcnn::LayerJob> jobs = small_network();
  nlohmann::json now = nlohmann::json::object();
  const std::pair<const char*, pcnn::ArchConfig> archs[] = {
      {"default", pcnn::ArchConfig{}},
      {"small-buffers",
       pcnn::read_arch_file(std::string(PCNN_SOURCE_DIR) + "/workloads/arch-small-buffers.json")}};
  for (const auto& [arch_name, arch] : archs)
    for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
      pcnn::SimOptions opt;
      opt.act_mode = mode;
      const auto results = pcnn::simulate_in_child(jobs, arch, opt);
      nlohmann::json layers = nlohmann::json::array();
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        REQUIRE(results[i].output == pcnn::golden_conv_layer(jobs[i].layer, jobs[i].input));
        layers.push_back(record_of(results[i].stats));
      }
      now[std::string(arch_name) + "/" + pcnn::to_string(mode)] = layers;
    }

  if (std::getenv("PCNN_UPDATE_REGRESSION")) {
    std::ofstream(kRecordFile) << now.dump(1) << "\n";
    WARN("rewrote " << kRecordFile);
    return;
  }
  std::ifstream in(kRecordFile);
  REQUIRE(in.good());
  const nlohmann::json recorded = nlohmann::json::parse(in);
  REQUIRE(recorded.size() == now.size());
  for (auto it = now.begin(); it != now.end(); ++it) {
    REQUIRE(recorded.contains(it.key()));
    for (std::size_t i = 0; i < it->size(); ++i) {
      INFO(it.key() << " layer " << i << "\nrecorded: " << recorded[it.key()][i].dump()
                    << "\nnow:      " << (*it)[i].dump());
      CHECK(recorded[it.key()][i] == (*it)[i]);
    }
  }
}
