// Energy of the post-processing unit (docs/energy.md, "Post-processing unit"):
// hand-computed for a tiny operator and for a max pool of a whole-network run,
// leakage on every row of a whole network, nothing in a per-layer run (which
// has no unit).
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "network_test_support.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/sim/network_run.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "prune_test_support.hpp"

using pcnn::Component;
using pcnn_test::TempDir;

namespace {

double action_pj(const pcnn::ResolvedEnergy& e, const char* key) {
  for (std::size_t i = 0; i < pcnn::kActions.size(); ++i)
    if (std::string(pcnn::kActions[i].key) == key) return e.action_pj[i];
  FAIL("no action " << key);
  return 0.0;
}

}  // namespace

TEST_CASE("post-processing energy: a tiny op by hand, leakage only when idle, none per layer",
          "[energy][post_process]") {
  const std::size_t k = pcnn::index_of(Component::post_process);
  const pcnn::ArchConfig arch;
  const pcnn::ResolvedEnergy per_layer = pcnn::resolve_energy(arch);
  CHECK(per_layer.leakage_mw[k] == 0.0);
  CHECK(per_layer.area_mm2[k] == 0.0);
  const pcnn::ResolvedEnergy e = pcnn::resolve_energy(arch, true);
  CHECK(e.leakage_mw[k] == Approx(1.395));
  CHECK(e.area_mm2[k] == Approx(0.3875));
  CHECK(action_pj(e, "post_process_line_buffer_read_bytes") == Approx(0.2138));
  CHECK(action_pj(e, "post_process_line_buffer_write_bytes") == Approx(0.2138));
  CHECK(action_pj(e, "post_process_element_ops") == Approx(0.05604));

  // A relu of 100 bytes: 100 bytes into the line buffer, 100 read by the
  // lanes, 100 element ops, in 20 ns.
  pcnn::LayerStats relu;
  relu.time_ns = 20.0;
  relu.actions.post_process_line_buffer_write_bytes = 100;
  relu.actions.post_process_line_buffer_read_bytes = 100;
  relu.actions.post_process_element_ops = 100;
  const pcnn::EnergyReport r = pcnn::layer_energy(relu, e);
  CHECK(r.dynamic_pj[k] == Approx(100 * 0.2138 + 100 * 0.2138 + 100 * 0.05604));  // 48.364
  CHECK(r.leakage_pj[k] == Approx(1.395 * 20.0));                                 // 27.9
  CHECK(r.on_chip_pj() >= r.component_pj(Component::post_process));

  // Idle (a PE-group row of a whole network): only its leakage.
  pcnn::LayerStats conv;
  conv.time_ns = 1000.0;
  conv.macs_issued = 5000;
  const pcnn::EnergyReport c = pcnn::layer_energy(conv, e);
  CHECK(c.dynamic_pj[k] == 0.0);
  CHECK(c.leakage_pj[k] == Approx(1395.0));
  // Per layer (no unit): nothing, so the Table IX figures stay as calibrated.
  const pcnn::EnergyReport p = pcnn::layer_energy(conv, per_layer);
  CHECK(p.component_pj(Component::post_process) == 0.0);

  // A 64 KiB line buffer: x2 per byte (sqrt 4); its leakage and area x4, the
  // lanes' unchanged; lane ops unchanged.
  pcnn::ArchConfig big = arch;
  big.post_process.line_buffer_bytes = 64 * 1024;
  const pcnn::ResolvedEnergy b = pcnn::resolve_energy(big, true);
  CHECK(action_pj(b, "post_process_line_buffer_read_bytes") == Approx(2 * 0.2138));
  CHECK(action_pj(b, "post_process_element_ops") == Approx(0.05604));
  // (The lanes' leakage is the rest of the rounded 1.395 mW: 0.061.)
  CHECK(b.leakage_mw[k] == Approx(4 * 1.334 + 0.061));  // 5.397
  CHECK(b.area_mm2[k] == Approx(4 * 0.325 + 0.0625));   // 1.3625
  // 8 lanes instead of 32: the lanes' quarter, the line buffer's unchanged.
  pcnn::ArchConfig narrow = arch;
  narrow.post_process.lanes = 8;
  const pcnn::ResolvedEnergy n = pcnn::resolve_energy(narrow, true);
  CHECK(n.leakage_mw[k] == Approx(1.334 + 0.061 / 4));  // 1.34925
  CHECK(n.area_mm2[k] == Approx(0.325 + 0.0625 / 4));   // 0.340625
  CHECK(action_pj(n, "post_process_line_buffer_read_bytes") == Approx(0.2138));
}

TEST_CASE("post-processing energy appears per operator and per network, only in whole-network runs",
          "[energy][post_process][network_run]") {
  TempDir tmp;
  pcnn::ModelBuilder b("pool", {1, 3, 12, 12}, 7);
  const std::string c1 = b.relu(b.conv(b.input(), 8));  // [8,12,12] on the PE group
  const std::string p1 = b.max_pool(c1, 2, 2);          // [8,6,6] on the unit
  b.conv(b.add(b.average_pool(p1, 3, 1, 1), p1), 4);
  b.write(tmp / "m.onnx");
  const pcnn_test::Pruned p = pcnn_test::prune(tmp / "m.onnx", 4);
  const pcnn::GoldenNetwork g(p.pruned.images, p.net);
  const std::vector<std::int8_t> x = g.quantise_input(std::vector<float>(3 * 12 * 12, 0.5f));
  const pcnn::ArchConfig arch;
  pcnn::NetworkRunOptions opt;
  opt.with_dense = false;
  const pcnn::NetworkRunResult r =
      pcnn::simulate_network_in_child(p.pruned.images, p.net, x, arch, opt);

  const std::size_t k = pcnn::index_of(Component::post_process);
  const double byte_pj = 0.2138, op_pj = 0.05604, leak_mw = 1.395;
  double sum_pj = 0.0;
  int unit_rows = 0, pools = 0;
  for (const pcnn::NetworkStepResult& s : r.steps) {
    const pcnn::NetNode& n = p.net.nodes[s.node];
    INFO("node " << n.name);
    const pcnn::DatapathActions& a = s.stats.actions;
    const pcnn::EnergyReport& e = s.stats.energy;
    // The unit exists for the whole run, so it leaks during every row.
    CHECK(e.leakage_pj[k] == Approx(leak_mw * s.stats.time_ns));
    sum_pj += e.component_pj(Component::post_process);
    if (s.unit != pcnn::NetUnit::post_process) {
      CHECK(a.post_process_element_ops == 0);
      CHECK(e.dynamic_pj[k] == 0.0);
      continue;
    }
    ++unit_rows;
    CHECK(a.post_process_element_ops > 0);
    // Every byte the unit reads from DRAM lands in its line buffer.
    CHECK(a.post_process_line_buffer_write_bytes == s.stats.dram.bytes_read);
    CHECK(a.post_process_line_buffer_read_bytes == a.post_process_element_ops);
    CHECK(e.dynamic_pj[k] ==
          Approx(byte_pj * static_cast<double>(a.post_process_line_buffer_read_bytes +
                                               a.post_process_line_buffer_write_bytes) +
                 op_pj * static_cast<double>(a.post_process_element_ops)));
    if (n.op == pcnn::Int8Op::max_pool) {
      // [8,12,12] -> [8,6,6], 2x2 windows: 288 outputs x 4 taps, 1152 bytes in.
      CHECK(a.post_process_element_ops == 1152);
      CHECK(a.post_process_line_buffer_write_bytes == 1152);
      CHECK(e.dynamic_pj[k] == Approx(1152 * (2 * byte_pj + op_pj)));  // 557.17 pJ
      ++pools;
    }
  }
  CHECK(unit_rows == 3);  // max_pool, average_pool, add
  CHECK(pools == 1);
  CHECK(r.total.energy.component_pj(Component::post_process) == Approx(sum_pj));
  CHECK(r.total.energy.leakage_pj[k] == Approx(leak_mw * r.total.time_ns));
  CHECK(r.total.energy.on_chip_pj() > r.total.energy.component_pj(Component::post_process));

  // Through pcnn-sim: the network run reports the unit (JSON and the ppu
  // column); a per-layer run of the same images has no unit, so nothing.
  REQUIRE(pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + tmp / "m.onnx -o " +
                                 tmp / "img --calib-samples 4")
              .status == 0);
  std::string pixels(3 * 12 * 12, '\x60');
  std::ofstream(tmp / "x.ppm", std::ios::binary) << "P6\n12 12\n255\n" << pixels;
  auto sim = [](const std::string& args) {
    return pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " " + args);
  };
  const pcnn_test::Run net =
      sim("run " + tmp / "img --network --input " + tmp / "x.ppm --json " + tmp / "net.json");
  INFO(net.out);
  REQUIRE(net.status == 0);
  CHECK(net.out.find("ppu_uJ") != std::string::npos);
  const nlohmann::json nj = nlohmann::json::parse(pcnn_test::slurp(tmp / "net.json"));
  const auto ppu_pj = [](const nlohmann::json& stats) {
    return stats.at("energy").at("components").at("post_process").at("total_pj").get<double>();
  };
  CHECK(ppu_pj(nj.at("total").at("stats")) > 0.0);
  CHECK(nj.at("area_mm2").at("post_process").get<double>() == Approx(0.3875));
  CHECK(nj.at("area_mm2").at("on_chip").get<double>() == Approx(8.3875));
  for (const nlohmann::json& s : nj.at("steps")) CHECK(ppu_pj(s.at("stats")) > 0.0);

  const pcnn_test::Run layers = sim("run " + tmp / "img --all --json " + tmp / "layers.json");
  INFO(layers.out);
  REQUIRE(layers.status == 0);
  CHECK(layers.out.find("ppu_uJ") == std::string::npos);
  const nlohmann::json lj = nlohmann::json::parse(pcnn_test::slurp(tmp / "layers.json"));
  CHECK(lj.at("total").at("energy").at("components").at("post_process").at("total_pj") == 0.0);
  CHECK(lj.at("area_mm2").at("post_process") == 0.0);
  for (const nlohmann::json& l : lj.at("layers")) CHECK(ppu_pj(l.at("stats")) == 0.0);
}
