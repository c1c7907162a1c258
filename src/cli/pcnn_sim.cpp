// pcnn-sim: runs SPM memory images on the SystemC model of the pattern-aware
// accelerator and reports cycles, utilisation, stalls, memory traffic and the
// speedup against the same array running each layer dense.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>

#include <systemc>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/printable.hpp"
#include "pcnn/core/version.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/network/int8_network.hpp"
#include "pcnn/network/network_input_shape.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/dense_twin_cache.hpp"
#include "pcnn/sim/result_csv.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/tensor_file.hpp"
#include "pcnn/sim/tile_plan.hpp"
#include "pcnn/sweep/csv_table.hpp"
#include "pcnn_sim_eval.hpp"
#include "pcnn_sim_golden.hpp"
#include "pcnn_sim_network.hpp"
#include "pcnn_sim_options.hpp"
#include "pcnn_sim_sweep.hpp"
#include "pcnn_sim_tables.hpp"

namespace po = boost::program_options;

namespace {

// SystemC prints its banner before sc_main runs; the variable must be set
// during static initialisation to keep the program's output clean.
const bool kQuietSystemC = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;

const char* kUsage =
    "pcnn-sim run IMAGES_DIR [--layer NAME | --all] [--arch arch.json]\n"
    "             [--input TENSOR_FILE | --seed S --act-density D] [--act-mode off|gate|skip]\n"
    "             [--timing cycle|lt]\n"
    "             [--vcd FILE [--vcd-window FROM:TO] [--vcd-pe P]] [--json result.json]\n"
    "             [--csv layers.csv] [--no-dense | --dense-cache DIR|off] [--input-shape NxCxHxW]";

// Version of the result JSON's layout (docs/results.md); raised on every change
// that renames, moves or removes a key.
constexpr int kResultFormatVersion = 1;

std::pair<std::uint64_t, std::uint64_t> parse_window(const std::string& text) {
  const auto colon = text.find(':');
  auto number = [&](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18)
      throw pcnn::UsageError("--vcd-window", "'" + text + "' is not FROM:TO (cycle numbers)");
    return std::stoull(s);
  };
  if (colon == std::string::npos)
    throw pcnn::UsageError("--vcd-window", "'" + text + "' is not FROM:TO (cycle numbers)");
  const std::uint64_t from = number(text.substr(0, colon));
  const std::uint64_t to = number(text.substr(colon + 1));
  if (from > to) throw pcnn::UsageError("--vcd-window", "FROM (" + std::to_string(from) +
                                                       ") is after TO (" + std::to_string(to) + ")");
  return {from, to};
}

void write_json_atomically(const std::string& path, const nlohmann::json& j) {
  pcnn::write_output_file(path, pcnn::json_text(j) + "\n", "the result file");
}

// A lower estimate of a run's cycles: the MACs the layers issue, spread over
// every lane (in skip mode only those with a non-zero input).
double expected_cycles(const std::vector<pcnn::LayerJob>& jobs, const pcnn::ArchConfig& arch,
                       pcnn::ActMode mode) {
  double cycles = 0;
  for (const pcnn::LayerJob& j : jobs) {
    const pcnn::ConvGeometry& g = j.layer.geom;
    double kept =
        j.layer.pattern_pruned ? static_cast<double>(j.layer.n) / (g.kernel_h * g.kernel_w) : 1.0;
    if (mode == pcnn::ActMode::skip && !j.input.empty()) {
      std::size_t nonzero = 0;
      for (const std::int8_t v : j.input) nonzero += v != 0;
      kept *= static_cast<double>(nonzero) / static_cast<double>(j.input.size());
    }
    cycles += static_cast<double>(g.dense_macs()) * kept / (arch.pe_count * arch.lanes_per_pe);
  }
  return cycles;
}

// Refuses a trace that would certainly outgrow the limit, before the run.
void check_vcd_size(const pcnn::TraceOptions& t, double run_cycles) {
  constexpr double kBytesPerTracedCycle = 100;  // measured: 120..190 on VGG-16 layers
  const double last = std::min(static_cast<double>(t.to_cycle), run_cycles);
  const double traced =
      last >= static_cast<double>(t.from_cycle) ? last - static_cast<double>(t.from_cycle) + 1 : 0;
  const double mib = traced * kBytesPerTracedCycle / (1 << 20);
  if (traced * kBytesPerTracedCycle > static_cast<double>(t.max_bytes))
    throw pcnn::Error("--vcd-max-mb", "the trace of at least " +
                                          std::to_string(static_cast<std::uint64_t>(traced)) +
                                          " cycles would take about " +
                                          std::to_string(static_cast<std::uint64_t>(mib)) +
                                          " MiB, over the " + std::to_string(t.max_bytes >> 20) +
                                          " MiB limit; narrow --vcd-window or raise --vcd-max-mb");
}

nlohmann::json geometry_json(const pcnn::ConvGeometry& g) {
  return {{"in_channels", g.in_channels}, {"out_channels", g.out_channels},
          {"in_h", g.in_h},               {"in_w", g.in_w},
          {"kernel_h", g.kernel_h},       {"kernel_w", g.kernel_w},
          {"stride_h", g.stride_h},       {"stride_w", g.stride_w},
          {"pad", {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}}};
}

int run_command(int argc, char** argv) {
  std::string images_dir, layer_name, arch_path, input_path, act_mode_text = "off",
              timing_text = "cycle", vcd_path, vcd_window, json_path, csv_path, dense_cache,
              input_shape_text;
  std::uint64_t seed = 1, max_cycles = pcnn::kDefaultMaxCycles, vcd_max_mb = 1024;
  double density = 0.5;
  int vcd_pe = 0;
  po::options_description visible(std::string("Usage:\n  ") + kUsage + "\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("layer", po::value(&layer_name), "run only the layer with this name")
      ("all", "run every layer in order (the default)")
      ("arch", po::value(&arch_path), "architecture JSON (docs/architecture.md); defaults are the paper's")
      ("input", po::value(&input_path), "input tensor file (PCNT format) for --layer")
      ("input-shape", po::value(&input_shape_text),
       "run a fully convolutional network at another input size, NxCxHxW (e.g. 1x3x64x64); "
       "the layers' sizes follow from network.json")
      ("seed", po::value(&seed)->default_value(1), "seed of the random input activations")
      ("act-density", po::value(&density)->default_value(0.5), "fraction of non-zero input activations, 0..1");
  add_act_mode_option(visible, act_mode_text);
  visible.add_options()
      ("timing", po::value(&timing_text)->default_value("cycle"),
       "cycle: every clock edge in simulated time; lt: fast mode, the PE group runs whole passes ahead "
       "and meets the host at DMA boundaries (same results; no --vcd)")
      ("vcd", po::value(&vcd_path), "write a VCD trace of the pipeline")
      ("vcd-window", po::value(&vcd_window), "trace only cycles FROM:TO (counted over the whole run)")
      ("vcd-pe", po::value(&vcd_pe)->default_value(0), "the PE whose lanes and masks are traced")
      ("vcd-max-mb", po::value(&vcd_max_mb)->default_value(1024),
       "largest VCD file in MiB: refused up front when the run's cycles need more, stopped when it grows past")
      ("json", po::value(&json_path), "write the results as JSON (docs/results.md)")
      ("csv", po::value(&csv_path), "write one CSV row per layer and a total row (docs/results.md)")
      ("no-dense", "skip the dense comparison runs (no speedup)")
      ("dense-cache", po::value(&dense_cache),
       "folder of the dense-twin cache, or 'off' (default: $PCNN_DENSE_CACHE, else "
       "$XDG_CACHE_HOME/pcnn/dense-twins or ~/.cache/pcnn/dense-twins)")
      ("network", "run the whole network on one --input file instead (pcnn-sim run --network --help)");
  add_max_cycles_option(visible, max_cycles);
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "images", images_dir);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-sim")) return 0;
  require_images_dir(images_dir);
  if (vm.count("layer") && vm.count("all"))
    throw pcnn::UsageError("command line", "--layer and --all exclude each other");
  if (vm.count("input") && !vm.count("layer"))
    throw pcnn::UsageError("--input", "needs --layer (every layer has its own input shape)");
  if (!(density >= 0.0 && density <= 1.0)) throw pcnn::UsageError("--act-density", "must be in 0..1");
  if (vm.count("vcd-window") && !vm.count("vcd"))
    throw pcnn::UsageError("--vcd-window", "needs --vcd FILE");
  pcnn::SimOptions options;
  options.act_mode = act_mode_option(act_mode_text);
  options.timing = timing_option(timing_text);
  if (!vcd_path.empty()) {
    if (options.timing == pcnn::Timing::lt)
      throw pcnn::UsageError("--vcd", "needs --timing cycle (the fast mode runs ahead of time)");
    options.trace.vcd_path = vcd_path;
    options.trace.traced_pe = vcd_pe;
    if (vcd_max_mb < 1 || vcd_max_mb > (std::uint64_t{1} << 30))
      throw pcnn::UsageError("--vcd-max-mb", "must be in 1..1073741824");
    options.trace.max_bytes = vcd_max_mb << 20;
    if (!vcd_window.empty()) {
      const auto w = parse_window(vcd_window);
      options.trace.from_cycle = w.first;
      options.trace.to_cycle = w.second;
    }
  }
  // Outputs are checked before any work: writable, and none overwrites an input.
  std::vector<pcnn::RunPath> outputs;
  if (vm.count("json")) outputs.push_back({json_path, "--json"});
  if (vm.count("vcd")) outputs.push_back({vcd_path, "--vcd"});
  if (vm.count("csv")) outputs.push_back({csv_path, "--csv"});
  for (const pcnn::RunPath& o : outputs) pcnn::check_output_path(o.path, o.what);
  pcnn::check_outputs_apart(
      {{images_dir, "IMAGES_DIR"}, {arch_path, "--arch"}, {input_path, "--input"}}, outputs);
  const pcnn::ArchConfig arch = read_arch_option(arch_path, options);
  options.max_cycles = max_cycles;
  pcnn::check_max_cycles(max_cycles, arch);
  if (vcd_pe < 0 || vcd_pe >= arch.pe_count)
    throw pcnn::UsageError("--vcd-pe", "must be in 0.." + std::to_string(arch.pe_count - 1));

  // A one-layer run reads and checks only that layer's part of the images; the
  // network description is read for shapes and signs, its Gemm weights are not.
  // Without dense twins the layers run from the image files as they are, so
  // their non-zeros and SPM indices are not rebuilt (only checked).
  const bool with_dense = !vm.count("no-dense");
  pcnn::ModelImages images =
      !layer_name.empty()
          ? pcnn::read_model_images(images_dir, layer_name)
          : pcnn::read_model_images(
                images_dir, with_dense ? pcnn::KernelData::decoded : pcnn::KernelData::packed);
  std::vector<std::int64_t> input_shape;
  std::optional<pcnn::Int8Network> network;
  if (std::filesystem::exists(images_dir + "/network.json"))
    network = pcnn::read_int8_network(images_dir, images.layers, pcnn::GemmWeights::skip);
  if (!input_shape_text.empty()) {
    // Every layer's size from the new input, operator by operator.
    input_shape = pcnn::parse_input_shape(input_shape_text, "--input-shape");
    if (!network)
      throw pcnn::Error("--input-shape", images_dir +
                                             " has no network.json (pcnn-prune writes it) to "
                                             "carry the input shape through the layers");
    pcnn::set_network_input_shape(*network, images.layers, input_shape, "--input-shape");
  }
  std::vector<pcnn::SpmLayer*> selected;
  for (pcnn::SpmLayer& l : images.layers)
    if (layer_name.empty() || l.name == layer_name) selected.push_back(&l);
  if (selected.empty()) {
    if (!layer_name.empty())
      throw pcnn::Error("--layer", "no layer named '" + layer_name + "' in " + images_dir);
    throw pcnn::Error(images_dir, "the images hold no layers");
  }

  // Jobs: every selected layer, then (unless --no-dense) their dense twins, so
  // that a VCD window from cycle 0 shows the pattern-pruned run.
  std::vector<pcnn::LayerJob> jobs;
  std::mt19937_64 rng(seed);
  std::vector<int> input_signs;
  if (network) input_signs = pcnn::conv_input_signs(*network, images.layers.size());
  for (std::size_t i = 0; i < selected.size(); ++i) {
    pcnn::LayerJob job;
    job.files = images.files;  // the pruner's bytes are what runs
    const pcnn::ConvGeometry& g = selected[i]->geom;
    if (!input_path.empty()) {
      const pcnn::Int8Tensor t = pcnn::read_tensor_file(input_path);
      if (t.c != g.in_channels || t.h != g.in_h || t.w != g.in_w)
        throw pcnn::Error(input_path, "tensor is " + std::to_string(t.c) + "x" + std::to_string(t.h) +
                                          "x" + std::to_string(t.w) + ", layer '" + selected[i]->name +
                                          "' needs " + std::to_string(g.in_channels) + "x" +
                                          std::to_string(g.in_h) + "x" + std::to_string(g.in_w));
      job.input = t.data;
    } else {
      // Layers whose input is never negative (after a ReLU, or a pool, Add or
      // Concat of such values) get non-negative inputs: from the network
      // description when there is one, else from the previous conv.
      const std::size_t k = static_cast<std::size_t>(selected[i] - images.layers.data());
      const bool after_relu = !input_signs.empty() && input_signs[k] >= 0
                                  ? input_signs[k] == 1
                                  : k > 0 && images.layers[k - 1].relu;
      job.input = pcnn::random_activations(g.input_elements(), density, after_relu, rng);
    }
    // Moved, not copied (several MB for a whole network): only scalar fields
    // (relu, above) of an earlier layer are read from `images` after this.
    job.layer = std::move(*selected[i]);
    jobs.push_back(std::move(job));
  }
  if (!with_dense && vm.count("dense-cache"))
    throw pcnn::UsageError("--dense-cache", "has no use with --no-dense");
  const std::size_t count = jobs.size();
  // Dense twins: from the cache when an earlier run or layer had the same
  // shape, architecture and input (not with --vcd, which traces them); the
  // others are simulated after the layers.
  if (!vm.count("dense-cache")) dense_cache = pcnn::default_dense_twin_cache_dir();
  const bool use_cache = vcd_path.empty();
  pcnn::DenseTwinCache cache(dense_cache == "off" ? "" : dense_cache);
  std::vector<std::optional<pcnn::LayerStats>> dense(count);
  std::vector<std::string> dense_key(count);
  std::vector<std::size_t> dense_job(count, 0);  // the job that runs layer i's twin
  std::vector<bool> shared_job(count, false);    // that job is an earlier layer's twin
  if (with_dense) {
    std::map<std::string, std::size_t> run_here;  // key -> its job in this run
    for (std::size_t i = 0; i < count; ++i) {
      if (use_cache) {
        dense_key[i] = pcnn::DenseTwinCache::key(jobs[i].layer, jobs[i].input, arch, options);
        dense[i] = cache.find(dense_key[i], jobs[i].layer, jobs[i].input);
        if (dense[i] && dense[i]->cycles > max_cycles) dense[i].reset();
        if (dense[i]) continue;
        if (const auto it = run_here.find(dense_key[i]); it != run_here.end()) {
          dense_job[i] = it->second;
          shared_job[i] = true;
          continue;
        }
        run_here[dense_key[i]] = jobs.size();
      }
      dense_job[i] = jobs.size();
      pcnn::LayerJob d;
      d.layer = pcnn::dense_equivalent(jobs[i].layer);
      d.input = jobs[i].input;
      jobs.push_back(std::move(d));
    }
  }

  if (!vcd_path.empty())
    check_vcd_size(options.trace, expected_cycles(jobs, arch, options.act_mode));

  options.on_layer_done = terminal_progress("layer runs");
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<pcnn::LayerResult> results = pcnn::simulate(jobs, arch, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t twins_reused = 0;
  if (with_dense)
    for (std::size_t i = 0; i < count; ++i) {
      if (dense[i]) {
        ++twins_reused;
        continue;
      }
      dense[i] = results[dense_job[i]].stats;
      if (shared_job[i]) {  // an earlier layer's twin: effectual MACs of this layer's weights
        dense[i]->macs_effectual = pcnn::dense_effectual_macs(jobs[i].layer, jobs[i].input);
        ++twins_reused;
      } else if (use_cache) {
        cache.store(dense_key[i], *dense[i]);
      }
    }

  // Tables, JSON and CSV.
  const pcnn::ResolvedEnergy energy = pcnn::resolve_energy(arch);
  std::printf("%-24s %3s %3s %12s %11s %6s %12s %8s\n", "layer", "n", "V", "cycles", "time_us",
              "util", "dense_cyc", "speedup");
  nlohmann::json layers = nlohmann::json::array();
  pcnn::LayerStats total;  // sums over the layers
  std::uint64_t total_dense = 0;
  pcnn::IndexOverhead total_index;
  std::vector<pcnn::IndexOverhead> index(count);
  for (std::size_t i = 0; i < count; ++i) {
    const pcnn::SpmLayer& l = jobs[i].layer;
    const pcnn::LayerStats& s = results[i].stats;
    pcnn::add_counts(total, s);
    index[i] = pcnn::index_overhead(l);
    total_index += index[i];
    nlohmann::json lj = {{"name", l.name},
                         {"index", l.index},
                         {"n", l.n},
                         {"patterns", l.num_patterns()},
                         {"pattern_pruned", l.pattern_pruned},
                         {"geometry", geometry_json(l.geom)},
                         {"dense_macs", l.geom.dense_macs()},
                         {"index_overhead", pcnn::index_overhead_json(index[i])},
                         {"stats", pcnn::stats_to_json(s)},
                         {"modules", results[i].module_stats}};
    char speed[32] = "-";
    char dense_cycles[32] = "-";
    if (with_dense) {
      const pcnn::LayerStats& d = *dense[i];
      total_dense += d.cycles;
      const double sp = static_cast<double>(d.cycles) / static_cast<double>(s.cycles);
      std::snprintf(speed, sizeof speed, "%.2fx", sp);
      std::snprintf(dense_cycles, sizeof dense_cycles, "%llu",
                    static_cast<unsigned long long>(d.cycles));
      lj["dense"] = pcnn::stats_to_json(d);
      lj["speedup_vs_dense"] = sp;
    }
    std::printf("%-24s %3d %3d %12llu %11.2f %6.3f %12s %8s\n", pcnn::printable(l.name).c_str(),
                l.n, l.num_patterns(), static_cast<unsigned long long>(s.cycles),
                s.time_ns / 1000.0, s.lane_utilisation, dense_cycles, speed);
    layers.push_back(lj);
  }
  const std::uint64_t total_cycles = total.cycles;
  const double total_speedup =
      with_dense ? static_cast<double>(total_dense) / static_cast<double>(total_cycles) : 0.0;
  char speed[32] = "-", dense_cycles[32] = "-";
  if (with_dense) {
    std::snprintf(speed, sizeof speed, "%.2fx", total_speedup);
    std::snprintf(dense_cycles, sizeof dense_cycles, "%llu",
                  static_cast<unsigned long long>(total_dense));
  }
  const double util = static_cast<double>(total.macs_issued) /
                      (static_cast<double>(total_cycles) * arch.pe_count * arch.lanes_per_pe);
  std::printf("%-24s %3s %3s %12llu %11.2f %6.3f %12s %8s\n", "total", "", "",
              static_cast<unsigned long long>(total_cycles), total.time_ns / 1000.0, util,
              dense_cycles, speed);

  // Second table: where the cycles went and what moved (README "The run tables").
  std::vector<StatsTableRow> rows;
  for (std::size_t i = 0; i < count; ++i)
    rows.push_back({pcnn::printable(jobs[i].layer.name), &results[i].stats});
  rows.push_back({"total", &total});
  print_work_and_traffic_table("layer", rows);
  std::printf(
      "time_us: layer time at the clock; util: MAC lane utilisation; dense_cyc: cycles of the\n"
      "same layer run dense; *_KiB: bytes read + written / 1024; st_*: stall cycles by reason:\n");
  std::string legend;  // from the schema, wrapped
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) {
    const std::string item = std::string(f.short_name) + " " + f.label;
    if (!legend.empty() && legend.size() + 2 + item.size() > 88) {
      std::printf("%s,\n", legend.c_str());
      legend.clear();
    }
    legend += (legend.empty() ? "  " : ", ") + item;
  }
  std::printf("%s.\n", legend.c_str());

  // Third table: energy by component (uJ), on-chip power and efficiency. A
  // per-layer run has no post-processing unit, so it has no column.
  auto in_table = [](const pcnn::ComponentInfo& c) {
    return c.id != pcnn::Component::post_process;
  };
  std::printf("\n%-24s", "layer");
  for (const pcnn::ComponentInfo& c : pcnn::kComponents)
    if (in_table(c)) std::printf(" %9s", (std::string(c.short_name) + "_uJ").c_str());
  std::printf(" %9s %8s %7s %7s %7s\n", "chip_uJ", "chip_mW", "TOPS/W", "TOPS/Wd", "idx_ovh");
  for (std::size_t i = 0; i <= count; ++i) {
    const pcnn::EnergyReport& e = i < count ? results[i].stats.energy : total.energy;
    const double ovh = i < count ? index[i].ratio() : total_index.ratio();
    std::printf("%-24s", i < count ? pcnn::printable(jobs[i].layer.name).c_str() : "total");
    for (const pcnn::ComponentInfo& c : pcnn::kComponents)
      if (in_table(c)) std::printf(" %9.3f", e.component_pj(c.id) / 1e6);
    std::printf(" %9.3f %8.2f %7.3f %7.3f %6.2f%%\n", e.on_chip_pj() / 1e6, e.on_chip_power_mw(),
                e.tops_per_w_effective(), e.tops_per_w_dense_equivalent(), 100.0 * ovh);
  }
  std::printf(
      "*_uJ: energy by component (rf register file, pe PE group), chip_uJ the five on chip;\n"
      "chip_mW: average on-chip power; TOPS/W: effective ops (2 per issued MAC) per on-chip\n"
      "energy, TOPS/Wd: dense-equivalent ops (2 per MAC of the dense layer); idx_ovh: Pattern\n"
      "SRAM bits / Weight SRAM bits of the images (docs/energy.md).\n");
  std::printf("on-chip area %.2f mm^2; energy per inference %.3f uJ on chip, %.3f uJ with DRAM\n",
              energy.on_chip_area_mm2(), total.energy.on_chip_pj() / 1e6,
              total.energy.total_pj() / 1e6);
  // The paper's TOPS/W: the same work with every lane busy every cycle.
  const pcnn::EnergyReport at_full = pcnn::energy_at_full_utilisation(total, energy, arch);
  std::printf("at full utilisation (the paper's TOPS/W, docs/energy.md): %.2f mW, %.3f TOPS/W, "
              "%.3f TOPS/Wd\n",
              at_full.on_chip_power_mw(), at_full.tops_per_w_effective(),
              at_full.tops_per_w_dense_equivalent());
  for (std::size_t i = 0; i < count; ++i)  // layers the host rewrote for the datapath
    if (!results[i].stats.lowering.empty())
      std::printf("(%s lowered: %s)\n", pcnn::printable(jobs[i].layer.name).c_str(),
                  results[i].stats.lowering.c_str());
  std::printf("%zu layer runs simulated in %.2f s, activation mode %s\n", jobs.size(), wall,
              pcnn::to_string(options.act_mode));
  if (twins_reused > 0)
    std::printf("%zu dense twins reused (same shape, architecture and input)%s%s\n", twins_reused,
                cache.dir().empty() ? "" : " from the cache in ", cache.dir().c_str());

  if (!json_path.empty()) {
    nlohmann::json t = {
        {"cycles", total_cycles},
        {"time_ns", total.time_ns},
        {"lane_utilisation", util},
        {"stall_cycles", pcnn::stall_cycles_json(total.stalls)},
        {"actions", pcnn::actions_json(total)},
        {"energy", pcnn::energy_report_json(total.energy)},
        {"energy_per_inference_uj", total.energy.total_pj() / 1e6},
        {"energy_at_full_utilisation",
         pcnn::energy_report_json(at_full)},
        {"index_overhead", pcnn::index_overhead_json(total_index)}};
    if (with_dense) {
      t["dense_cycles"] = total_dense;
      t["speedup_vs_dense"] = total_speedup;
    }
    nlohmann::json out = {
        {"format_version", kResultFormatVersion},
        {"tool", "pcnn-sim"},
        {"tool_version", pcnn::tool_version()},
        {"git_commit", pcnn::git_commit()},
        {"images",
         {{"dir", images_dir},
          {"model_name", images.model_name},
          {"source_file", images.source_file},
          {"identity", images.identity}}},
        {"architecture", pcnn::arch_to_json(arch)},
        {"area_mm2", pcnn::area_json(energy)},
        {"act_mode", pcnn::to_string(options.act_mode)},
        {"input", input_path.empty() ? nlohmann::json{{"seed", seed}, {"act_density", density}}
                                     : nlohmann::json{{"file", input_path}}},
        {"input_shape", input_shape.empty() ? nlohmann::json() : nlohmann::json(input_shape)},
        {"layers", layers},
        {"total", t}};
    write_json_atomically(json_path, out);
  }
  if (!csv_path.empty()) {
    pcnn::CsvTable table;
    table.header = pcnn::result_csv_header();
    for (std::size_t i = 0; i < count; ++i) {
      const pcnn::SpmLayer& l = jobs[i].layer;
      table.rows.push_back(pcnn::result_csv_row(
          {l.name, std::to_string(l.index), std::to_string(l.n), std::to_string(l.num_patterns())},
          results[i].stats, results[i].stats.lane_utilisation, index[i].ratio()));
    }
    table.rows.push_back(
        pcnn::result_csv_row({"total", "", "", ""}, total, util, total_index.ratio()));
    pcnn::write_csv_file(csv_path, table);
  }
  return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
  (void)kQuietSystemC;
  return pcnn::run_program("pcnn-sim", [&] {
    const std::string command = argc < 2 ? "" : argv[1];
    if (command == "--help" || command == "-h") {
      std::cout << "Usage:\n  " << kUsage
                << "\n  pcnn-sim sweep SWEEP.json [-j N] [-o results.csv] [--shard K/N]"
                << "\n  pcnn-sim run IMAGES_DIR --network --input FILE [--output FILE.npy] [--dump-layers DIR]"
                << "\n             [--input-shape NxCxHxW]"
                << "\n  pcnn-sim golden IMAGES_DIR --input FILE [--output FILE.npy] [--dump-layers DIR]"
                << "\n  pcnn-sim eval IMAGES_DIR --dataset fashion-mnist [--limit N] [-j N] [--json FILE]"
                << "\n  pcnn-sim --version"
                << "\n\nRun 'pcnn-sim run --help' or 'pcnn-sim sweep --help' for the options.\n";
      return 0;
    }
    if (command == "--version") return pcnn::print_version("pcnn-sim");
    if (command == "run") {
      for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]) == "--network") return network_command(argc - 1, argv + 1);
      return run_command(argc - 1, argv + 1);
    }
    if (command == "sweep") return sweep_command(argc - 1, argv + 1);
    if (command == "golden") return golden_command(argc - 1, argv + 1);
    if (command == "eval") return eval_command(argc - 1, argv + 1);
    if (command.empty()) throw pcnn::UsageError("command line", "no command given (run, sweep, golden or eval; see --help)");
    throw pcnn::UsageError("command line", "unknown command '" + command + "' (expected run, sweep, golden or eval)");
  });
}
