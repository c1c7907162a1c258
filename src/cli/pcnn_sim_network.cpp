#include "pcnn_sim_network.hpp"

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/version.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/sim/network_run.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn_sim_network_io.hpp"
#include "pcnn_sim_options.hpp"
#include "pcnn_sim_tables.hpp"

namespace po = boost::program_options;

namespace {

constexpr int kNetworkResultFormatVersion = 1;

double percent(std::uint64_t part, std::uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

void print_tables(const pcnn::Int8Network& net, const pcnn::NetworkRunResult& r) {
  std::printf("%-24s %-19s %-12s %11s %10s %7s %11s %8s\n", "node", "op", "unit", "cycles",
              "time_us", "in_dens", "dense_cyc", "speedup");
  for (const pcnn::NetworkStepResult& s : r.steps) {
    const pcnn::NetNode& n = net.nodes[s.node];
    char dense[32] = "-", speed[32] = "-";
    if (s.has_dense) {
      std::snprintf(dense, sizeof dense, "%llu", static_cast<unsigned long long>(s.dense.cycles));
      std::snprintf(speed, sizeof speed, "%.2fx",
                    static_cast<double>(s.dense.cycles) / static_cast<double>(s.stats.cycles));
    }
    std::printf("%-24s %-19s %-12s %11llu %10.2f %7.3f %11s %8s\n", n.name.c_str(),
                pcnn::to_string(n.op), pcnn::to_string(s.unit),
                static_cast<unsigned long long>(s.stats.cycles), s.stats.time_ns / 1000.0,
                s.input_density, dense, speed);
  }
  char dense[32] = "-", speed[32] = "-";
  if (r.dense_cycles) {
    std::snprintf(dense, sizeof dense, "%llu", static_cast<unsigned long long>(r.dense_cycles));
    std::snprintf(speed, sizeof speed, "%.2fx",
                  static_cast<double>(r.dense_cycles) / static_cast<double>(r.total.cycles));
  }
  std::printf("%-24s %-19s %-12s %11llu %10.2f %7s %11s %8s\n", "total", "", "",
              static_cast<unsigned long long>(r.total.cycles), r.total.time_ns / 1000.0, "", dense,
              speed);
  std::printf(
      "unit: where the operator runs (pe_group; post_process; host: a DMA relayout; none: the\n"
      "same DRAM bytes); in_dens: non-zero fraction of its input; dense_cyc: the conv run\n"
      "dense on the same input.\n");

  std::vector<StatsTableRow> rows;
  for (std::size_t i = 0; i < r.steps.size(); ++i)
    rows.push_back({net.nodes[i].name, &r.steps[i].stats});
  rows.push_back({"total", &r.total});
  print_work_and_traffic_table("node", rows);
  std::printf(
      "st_*: PE-group stall cycles by reason (see pcnn-sim run); *_KiB: bytes read + written\n"
      "/ 1024.\n");

  std::printf("\n%-24s", "node");
  for (const pcnn::ComponentInfo& c : pcnn::kComponents)
    std::printf(" %9s", (std::string(c.short_name) + "_uJ").c_str());
  std::printf(" %9s %9s\n", "chip_uJ", "total_uJ");
  for (std::size_t i = 0; i <= r.steps.size(); ++i) {
    const pcnn::EnergyReport& e = i < r.steps.size() ? r.steps[i].stats.energy : r.total.energy;
    std::printf("%-24s", i < r.steps.size() ? net.nodes[i].name.c_str() : "total");
    for (const pcnn::ComponentInfo& c : pcnn::kComponents)
      std::printf(" %9.3f", e.component_pj(c.id) / 1e6);
    std::printf(" %9.3f %9.3f\n", e.on_chip_pj() / 1e6, e.total_pj() / 1e6);
  }
  std::printf(
      "*_uJ: energy by component (docs/energy.md; rf register file, pe PE group, ppu\n"
      "post-processing unit, which leaks on every row); chip_uJ on chip, total_uJ with DRAM.\n");
  for (const pcnn::NetworkStepResult& s : r.steps)  // layers the host rewrote for the datapath
    if (!s.stats.lowering.empty())
      std::printf("(%s lowered: %s)\n", net.nodes[s.node].name.c_str(), s.stats.lowering.c_str());
}

nlohmann::json result_json(const pcnn::Int8Network& net, const pcnn::NetworkRunResult& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const pcnn::NetworkStepResult& s : r.steps) {
    const pcnn::NetNode& n = net.nodes[s.node];
    nlohmann::json j = {{"node", n.name},
                        {"op", pcnn::to_string(n.op)},
                        {"unit", pcnn::to_string(s.unit)},
                        {"output", net.tensors[n.output].name},
                        {"input_density", s.input_density},
                        {"stats", pcnn::stats_to_json(s.stats)},
                        {"modules", s.module_stats}};
    if (s.has_dense) {
      j["dense"] = pcnn::stats_to_json(s.dense);
      j["speedup_vs_dense"] =
          static_cast<double>(s.dense.cycles) / static_cast<double>(s.stats.cycles);
    }
    steps.push_back(j);
  }
  const std::uint64_t outside = r.total.cycles - r.pe_group_cycles;
  nlohmann::json total = {{"cycles", r.total.cycles},
                          {"time_ns", r.total.time_ns},
                          {"pe_group_cycles", r.pe_group_cycles},
                          {"outside_pe_group_cycles", outside},
                          {"outside_pe_group_share", percent(outside, r.total.cycles) / 100.0},
                          {"stats", pcnn::stats_to_json(r.total)},
                          {"energy_per_inference_uj", r.total.energy.total_pj() / 1e6}};
  if (r.dense_cycles) {
    total["dense_cycles"] = r.dense_cycles;
    total["speedup_vs_dense"] =
        static_cast<double>(r.dense_cycles) / static_cast<double>(r.total.cycles);
  }
  return {{"steps", steps}, {"total", total}};
}

}  // namespace

int network_command(int argc, char** argv) {
  NetworkCommandLine args;
  std::string arch_path, act_mode_text = "off", json_path;
  std::uint64_t max_cycles = pcnn::kDefaultMaxCycles;
  po::options_description visible(
      "Usage:\n  pcnn-sim run IMAGES_DIR --network --input FILE [--arch arch.json]\n"
      "             [--act-mode off|gate|skip] [--output FILE.npy] [--dump-layers DIR]\n"
      "             [--json result.json] [--no-dense] [--input-shape NxCxHxW]\n\n"
      "Runs the whole network of IMAGES_DIR (network.json from pcnn-prune) on one input in\n"
      "one simulation of the accelerator: convs and Gemm on the PE group, the operators\n"
      "between them on the post-processing unit, activations kept in the simulated DRAM.\n\n"
      "Options");
  visible.add_options()("help,h", "show this help")("network", "run the whole network (this mode)");
  args.add_input(visible);
  visible.add_options()("arch", po::value(&arch_path), "architecture JSON (docs/architecture.md)");
  add_act_mode_option(visible, act_mode_text);
  args.add_output_and_dump_layers(visible);
  visible.add_options()("json", po::value(&json_path), "write the per-operator results as JSON");
  args.add_top(visible);
  visible.add_options()("no-dense", "skip the dense runs of the convs (no speedup)");
  args.add_input_shape(visible);
  add_max_cycles_option(visible, max_cycles);
  const po::variables_map vm =
      pcnn::parse_command_line(argc, argv, visible, "images", args.images_dir);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-sim")) return 0;
  args.check_given("is required with --network");
  pcnn::NetworkRunOptions options;
  options.sim.act_mode = act_mode_option(act_mode_text);
  options.with_dense = !vm.count("no-dense");
  options.sim.max_cycles = max_cycles;
  std::vector<pcnn::RunPath> json_output;
  if (!json_path.empty()) json_output.push_back({json_path, "--json"});
  const std::vector<pcnn::RunPath> outputs = args.check_outputs(json_output);
  pcnn::check_outputs_apart(
      {{args.images_dir, "IMAGES_DIR"}, {arch_path, "--arch"}, {args.input_path, "--input"}},
      outputs);
  const pcnn::ArchConfig arch = read_arch_option(arch_path, options.sim);
  pcnn::check_max_cycles(max_cycles, arch);

  const pcnn::GoldenNetwork loaded = load_network(args.images_dir, args.input_shape_text);
  const pcnn::Int8Network& net = loaded.network();
  const std::vector<std::int8_t> x = read_quantised_input(args.input_path, loaded);
  options.sim.on_layer_done = terminal_progress("layer runs");
  const auto t0 = std::chrono::steady_clock::now();
  const pcnn::NetworkRunResult r = pcnn::simulate_network(loaded.images(), net, x, arch, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  print_tables(net, r);
  const std::uint64_t outside = r.total.cycles - r.pe_group_cycles;
  std::printf(
      "\nnetwork: %zu operators, %llu cycles (%.2f us); PE group %llu, outside it %llu "
      "(%.1f%%)\n",
      net.nodes.size(), static_cast<unsigned long long>(r.total.cycles), r.total.time_ns / 1000.0,
      static_cast<unsigned long long>(r.pe_group_cycles), static_cast<unsigned long long>(outside),
      percent(outside, r.total.cycles));
  if (r.dense_cycles)
    std::printf("dense network: %llu cycles, speedup %.2fx\n",
                static_cast<unsigned long long>(r.dense_cycles),
                static_cast<double>(r.dense_cycles) / static_cast<double>(r.total.cycles));
  // A whole network has the post-processing unit on chip beside Table IX's five.
  const pcnn::ResolvedEnergy energy = pcnn::resolve_energy(arch, /*with_post_process_unit=*/true);
  std::printf("energy per inference: %.3f uJ on chip, %.3f uJ with DRAM; on-chip area %.2f mm^2\n",
              r.total.energy.on_chip_pj() / 1e6, r.total.energy.total_pj() / 1e6,
              energy.on_chip_area_mm2());
  std::printf("simulated in %.2f s, activation mode %s\n", wall,
              pcnn::to_string(options.sim.act_mode));

  const pcnn::NetTensor& out_t = net.tensors[net.output];
  const std::vector<std::int8_t>& y = r.tensors[net.output];
  if (!args.dump_dir.empty()) {
    LayerDump dump(args.dump_dir);
    for (const pcnn::NetNode& n : net.nodes)
      dump.add(n, net.tensors[n.output], r.tensors[n.output]);
    dump.finish();
  }
  if (!args.output_path.empty())
    write_int8_tensor(args.output_path, out_t.name, y, out_t.shape, out_t.scale, "--output");
  if (!json_path.empty()) {
    nlohmann::json out = result_json(net, r);
    out["format_version"] = kNetworkResultFormatVersion;
    out["tool"] = "pcnn-sim";
    out["tool_version"] = pcnn::tool_version();
    out["git_commit"] = pcnn::git_commit();
    out["images"] = {{"dir", args.images_dir}, {"identity", loaded.images().identity}};
    out["architecture"] = pcnn::arch_to_json(arch);
    out["area_mm2"] = pcnn::area_json(energy);
    out["act_mode"] = pcnn::to_string(options.sim.act_mode);
    out["input"] = {{"file", args.input_path}};
    out["input_shape"] = net.tensors[net.input].shape;
    out["wall_s"] = wall;
    out["output"] = {{"tensor", out_t.name}, {"shape", out_t.shape}, {"scale", out_t.scale}};
    pcnn::write_output_file(json_path, pcnn::json_text(out) + "\n", "--json");
  }
  std::printf("\n");
  print_network_output(y, out_t.shape, out_t.scale, net.nodes.size(), args.top);
  return 0;
}
