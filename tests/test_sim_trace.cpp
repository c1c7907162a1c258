// The VCD trace and its GTKWave files (docs/vcd-gtkwave.md): a window inside a
// DRAM wait is traced edge by edge, one cycle is ten time steps (1 ns of the
// axis), the save file groups the signals and names the controller states, and
// tracing does not change a result.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a VCD window inside the first DRAM wait is traced with names and a save file",
          "[sim][trace]") {
  char tmpl[] = "/tmp/pcnn_trace_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::mt19937_64 rng(5);
  pcnn::ConvGeometry g;
  g.in_channels = 32;
  g.out_channels = 64;
  g.in_h = g.in_w = 16;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "traced");
  job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);

  pcnn::SimOptions plain;
  pcnn::SimOptions traced;
  traced.trace.vcd_path = dir + "/w.vcd";
  traced.trace.from_cycle = 20;  // the PE group waits for its first weight chunk here
  traced.trace.to_cycle = 24;
  const auto a = pcnn::simulate_in_child({job}, pcnn::ArchConfig{}, plain);
  const auto b = pcnn::simulate_in_child({job}, pcnn::ArchConfig{}, traced);
  CHECK(a[0].output == b[0].output);
  CHECK(a[0].stats.cycles == b[0].stats.cycles);
  CHECK(pcnn::stats_to_json(a[0].stats) == pcnn::stats_to_json(b[0].stats));

  const std::string vcd = slurp(dir + "/w.vcd");
  CHECK(vcd.find("$timescale 100 ps $end") != std::string::npos);
  // Every edge of the window: rising at 10 N, falling at 10 N + 5, nothing else.
  for (int c = 20; c <= 24; ++c) {
    CHECK(vcd.find("\n#" + std::to_string(c * 10) + "\n") != std::string::npos);
    CHECK(vcd.find("\n#" + std::to_string(c * 10 + 5) + "\n") != std::string::npos);
  }
  CHECK(vcd.find("\n#190\n") == std::string::npos);
  CHECK(vcd.find("\n#250\n") == std::string::npos);
  CHECK(vcd.find("$scope module dram $end") != std::string::npos);
  CHECK(vcd.find("weight_chunks_filled") != std::string::npos);

  const std::string gtkw = slurp(dir + "/w.gtkw");
  CHECK(gtkw.find("[dumpfile] \"" + dir + "/w.vcd\"") != std::string::npos);
  for (const char* group : {"-controller", "-stage 1: window fetch", "-SRAM strobes",
                            "-host DMA buffers", "-DRAM channel"})
    CHECK(gtkw.find(std::string(group) + "\n") != std::string::npos);
  CHECK(gtkw.find("^1 " + dir +
                  "/w.controller_state.filter\n@2024\n"
                  "top.pe_group.controller_state[2:0]\n") != std::string::npos);
  CHECK(gtkw.find("top.pe_group.stage3.pe0.partial_sum[31:0]") != std::string::npos);
  const std::string filter = slurp(dir + "/w.controller_state.filter");
  CHECK(filter.rfind("0 wait_weight_chunk\n1 refilling\n2 computing\n", 0) == 0);

  // GTKWave's own converter reads the trace.
  CHECK(std::system(("vcd2fst '" + dir + "/w.vcd' '" + dir + "/w.fst' > /dev/null 2>&1").c_str()) ==
        0);
  std::filesystem::remove_all(dir);
}
