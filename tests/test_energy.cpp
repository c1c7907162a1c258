// Energy model: hand-computed energy of a tiny layer in each activation mode,
// counters against the sums of their parts, leakage-only idle components, the
// `energy` section's reader, and the calibration against the paper's Table IX
// (docs/energy.md).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <random>

#include "pcnn/core/error.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/workloads.hpp"

namespace {

using pcnn::Component;

// The tiny layer of tests/test_sim_cycles.cpp: 2 PEs x 4 lanes, 12-word kernel
// register; C = 8, M = 2, 6x6 input, n = 3, V = 2, no padding.
pcnn::ArchConfig tiny_arch() {
  pcnn::ArchConfig a;
  a.pe_count = 2;
  a.lanes_per_pe = 4;
  a.kernel_register_words = 12;
  a.psum_entries_per_pe = 64;
  a.weight_sram = {256, 8, 1, 2};
  a.pattern_sram = {64, 4, 1, 1};
  a.data_sram = {2048, 8, 16, 0};
  a.dram.bandwidth_gbps = 1000.0;
  a.dram.latency_ns = 0.0;
  a.dram.energy_pj_per_byte = 1.0;
  a.kernel_register_double_buffering = false;  // the single-buffered schedule
  // Simple energies so that the sums below can be done by hand; the SRAM
  // references are the tiny sizes (no scaling), logic leakage is zero.
  pcnn::EnergyConfig& e = a.energy;
  auto set = [&](const char* key, double pj) {
    for (std::size_t i = 0; i < pcnn::kActions.size(); ++i)
      if (std::string(pcnn::kActions[i].key) == key) e.action_pj[i] = pj;
  };
  set("data_sram_read_bytes", 1.0);
  set("data_sram_write_bytes", 2.0);
  set("weight_sram_read_bytes", 3.0);
  set("weight_sram_write_bytes", 4.0);
  set("pattern_sram_read_bytes", 5.0);
  set("pattern_sram_write_bytes", 6.0);
  set("kernel_register_write_bytes", 0.5);
  set("kernel_register_reads", 0.25);
  set("window_write_bytes", 0.125);
  set("window_shift_bytes", 0.03125);
  set("window_reads", 0.0625);
  set("psum_reads", 1.0);
  set("psum_writes", 2.0);
  set("macs_issued", 0.1);
  set("spm_decodes", 0.2);
  set("pointer_generations", 0.3);
  set("requantisations", 4.0);
  e.leakage_mw.fill(0.0);
  e.leakage_mw[pcnn::index_of(Component::data_sram)] = 1.0;
  auto reference = [&](Component c, const pcnn::SramConfig& sram) {
    e.reference_size_bytes[pcnn::index_of(c)] = sram.size_bytes;
    e.reference_word_bytes[pcnn::index_of(c)] = sram.word_bytes;
    e.reference_banks[pcnn::index_of(c)] = sram.banks;
  };
  reference(Component::data_sram, a.data_sram);
  reference(Component::weight_sram, a.weight_sram);
  reference(Component::pattern_sram, a.pattern_sram);
  return a;
}

pcnn::LayerJob tiny_job(const std::vector<std::int8_t>& input) {
  std::mt19937_64 rng(3);
  pcnn::ConvGeometry g;
  g.in_channels = 8;
  g.out_channels = 2;
  g.in_h = g.in_w = 6;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 3, 2, false, rng, "tiny");
  job.input = input;
  return job;
}

std::vector<std::int8_t> channel0_input() {  // only channel 0 non-zero
  std::vector<std::int8_t> in(8 * 36, 0);
  for (int i = 0; i < 36; ++i) in[i] = static_cast<std::int8_t>(1 + i % 7);
  return in;
}

pcnn::LayerStats run_tiny(pcnn::ActMode mode) {
  pcnn::SimOptions opt;
  opt.act_mode = mode;
  const std::vector<pcnn::LayerJob> jobs = {tiny_job(channel0_input())};
  const auto r = pcnn::simulate_in_child(jobs, tiny_arch(), opt);
  REQUIRE(r[0].output == pcnn::golden_conv_layer(jobs[0].layer, jobs[0].input));
  return r[0].stats;
}

std::uint64_t count(const pcnn::LayerStats& s, const char* key) {
  for (const pcnn::ActionField& a : pcnn::kActions)
    if (std::string(a.key) == key) return a.count(s);
  FAIL("no action " << key);
  return 0;
}

double pj(const pcnn::EnergyReport& r, Component c) { return r.component_pj(c); }

// Counts common to every mode (see test_sim_cycles.cpp for the schedule):
//  2 refills of 2 PEs x 12 bytes; 2 x 16 x 2 outputs requantised;
//  windows per group and output row: 9 positions x 4 channels, then 3 x 3 new
//  columns x 4 channels = 72 bytes, 4 rows, 2 groups = 576 bytes; the 3 in-row
//  windows of a row shift 2 columns x 3 rows x 4 channels = 24 bytes each;
//  Data SRAM: reads 576 + 32 outputs the host moves out, writes 288 input + 32;
//  Weight SRAM: 48 written by DMA, 48 read; Pattern SRAM: 2 bytes each way;
//  DRAM: 288 + 48 + 2 read, 32 written.
void check_common_counts(const pcnn::LayerStats& s) {
  CHECK(count(s, "kernel_register_write_bytes") == 48);
  CHECK(count(s, "window_write_bytes") == 576);
  CHECK(count(s, "window_shift_bytes") == 2 * 4 * 3 * 24);
  CHECK(count(s, "spm_decodes") == 16);
  CHECK(count(s, "requantisations") == 32);
  CHECK(count(s, "data_sram_read_bytes") == 608);
  CHECK(count(s, "data_sram_write_bytes") == 320);
  CHECK(count(s, "weight_sram_read_bytes") == 48);
  CHECK(count(s, "weight_sram_write_bytes") == 48);
  CHECK(count(s, "pattern_sram_read_bytes") == 2);
  CHECK(count(s, "pattern_sram_write_bytes") == 2);
  CHECK(count(s, "dram_read_bytes") == 338);
  CHECK(count(s, "dram_write_bytes") == 32);
}

}  // namespace

TEST_CASE("energy of a tiny layer by hand, mode off", "[energy]") {
  const pcnn::LayerStats s = run_tiny(pcnn::ActMode::off);
  check_common_counts(s);
  // 2 x 16 x 8 x 3 MACs, each reading one kernel-register word and one window
  // value; pointers made once per refill: 2 refills x 2 PEs x 4 kernels.
  CHECK(count(s, "macs_issued") == 768);
  CHECK(count(s, "kernel_register_reads") == 768);
  CHECK(count(s, "window_reads") == 768);
  CHECK(count(s, "pointer_generations") == 16);
  // Partial sums: group 0 writes 16 x 2 entries, group 1 reads and writes them,
  // the write-back reads them.
  CHECK(count(s, "psum_reads") == 64);
  CHECK(count(s, "psum_writes") == 64);
  REQUIRE(s.cycles == 123);
  const pcnn::EnergyReport& e = s.energy;
  const double time_ns = 123 * 1000.0 / 300.0;  // 410 ns
  CHECK(e.time_ns == Approx(time_ns));
  CHECK(pj(e, Component::data_sram) == Approx(608 * 1.0 + 320 * 2.0 + 1.0 * time_ns));
  CHECK(pj(e, Component::weight_sram) == Approx(48 * 3.0 + 48 * 4.0));
  CHECK(pj(e, Component::pattern_sram) == Approx(2 * 5.0 + 2 * 6.0));
  CHECK(pj(e, Component::register_file) ==
        Approx(48 * 0.5 + 768 * 0.25 + 576 * 0.125 + 576 * 0.03125 + 768 * 0.0625 + 64 * 1.0 +
               64 * 2.0));
  CHECK(pj(e, Component::pe_group) == Approx(768 * 0.1 + 16 * 0.2 + 16 * 0.3 + 32 * 4.0));
  CHECK(pj(e, Component::dram) == Approx(370 * 1.0));
  CHECK(e.on_chip_pj() == Approx(1658 + 336 + 22 + 546 + 212.8));
  CHECK(e.on_chip_power_mw() == Approx(e.on_chip_pj() / time_ns));
  CHECK(e.tops_per_w_effective() == Approx(2.0 * 768 / e.on_chip_pj()));
  // Dense equivalent: 2 x 8 x 9 kernels x 16 positions MACs.
  CHECK(e.dense_equivalent_ops == Approx(2.0 * 2 * 8 * 9 * 16));
}

TEST_CASE("gate saves MAC and register energy, skip also time", "[energy]") {
  const pcnn::LayerStats off = run_tiny(pcnn::ActMode::off);
  const pcnn::LayerStats gate = run_tiny(pcnn::ActMode::gate);
  const pcnn::LayerStats skip = run_tiny(pcnn::ActMode::skip);
  check_common_counts(gate);
  check_common_counts(skip);
  // Only channel 0's 3 weights meet non-zero activations: 2 x 16 x 3 MACs;
  // pointers are made per step: 2 groups x 16 positions x 2 PEs x 4 kernels;
  // group 1 meets only zeros, so its partial sums are neither read nor written.
  for (const pcnn::LayerStats* s : {&gate, &skip}) {
    CHECK(count(*s, "psum_reads") == 32);
    CHECK(count(*s, "psum_writes") == 32);
    CHECK(count(*s, "macs_issued") == 96);
    CHECK(count(*s, "kernel_register_reads") == 96);
    CHECK(count(*s, "window_reads") == 96);
    CHECK(count(*s, "pointer_generations") == 256);
  }
  CHECK(gate.cycles == off.cycles);
  CHECK(skip.cycles < off.cycles);
  const double saved_rf = (768 - 96) * (0.25 + 0.0625) + 32 * 1.0 + 32 * 2.0;
  CHECK(pj(off.energy, Component::register_file) - pj(gate.energy, Component::register_file) ==
        Approx(saved_rf));
  CHECK(pj(off.energy, Component::pe_group) - pj(gate.energy, Component::pe_group) ==
        Approx((768 - 96) * 0.1 - (256 - 16) * 0.3));
  CHECK(gate.energy.on_chip_pj() < off.energy.on_chip_pj());
  // skip: the same actions as gate in fewer cycles, so less leakage.
  CHECK(skip.energy.on_chip_leakage_pj() < gate.energy.on_chip_leakage_pj());
  CHECK(skip.energy.on_chip_pj() < gate.energy.on_chip_pj());
}

TEST_CASE("an idle component costs only its leakage", "[energy]") {
  // A dense layer reads no SPM index: the Pattern SRAM only leaks.
  std::mt19937_64 rng(5);
  pcnn::ConvGeometry g;
  g.in_channels = 16;
  g.out_channels = 8;
  g.in_h = g.in_w = 6;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  pcnn::LayerJob job;
  job.layer = pcnn::dense_equivalent(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "dense"));
  job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
  const pcnn::ArchConfig arch;
  const pcnn::LayerStats s = pcnn::simulate_in_child({job}, arch, {})[0].stats;
  REQUIRE(s.pattern_sram.bytes_read == 0);
  REQUIRE(s.pattern_sram.bytes_written == 0);
  const std::size_t p = pcnn::index_of(Component::pattern_sram);
  CHECK(s.energy.dynamic_pj[p] == 0.0);
  CHECK(s.energy.leakage_pj[p] == Approx(arch.energy.leakage_mw[p] * s.time_ns));
  CHECK(s.energy.power_mw(Component::pattern_sram) == Approx(arch.energy.leakage_mw[p]));
  // With no time and no actions, nothing at all.
  const pcnn::EnergyReport none =
      pcnn::layer_energy(pcnn::LayerStats{}, pcnn::resolve_energy(arch));
  CHECK(none.total_pj() == 0.0);
  CHECK(none.on_chip_power_mw() == 0.0);
  CHECK(none.tops_per_w_effective() == 0.0);
}

TEST_CASE("network counters and energy equal the sums of their parts", "[energy]") {
  std::mt19937_64 rng(8);
  std::vector<pcnn::LayerJob> jobs;
  const int shapes[][4] = {{3, 16, 8, 4}, {16, 70, 8, 2}, {70, 8, 4, 1}};  // C, M, HW, n
  for (const auto& sh : shapes) {
    pcnn::ConvGeometry g;
    g.in_channels = sh[0];
    g.out_channels = sh[1];
    g.in_h = g.in_w = sh[2];
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    pcnn::LayerJob job;
    job.layer = pcnn::make_layer_with_geometry(g, sh[3], 4, true, rng, "l");
    job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
    jobs.push_back(std::move(job));
  }
  pcnn::SimOptions opt;
  opt.act_mode = pcnn::ActMode::gate;
  const auto results = pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, opt);
  pcnn::LayerStats total;
  double on_chip = 0.0, dram = 0.0;
  for (const pcnn::LayerResult& r : results) {
    const pcnn::LayerStats& s = r.stats;
    pcnn::add_counts(total, s);
    on_chip += s.energy.on_chip_pj();
    dram += s.energy.dram_pj();
    // The memories' own counters (the module walk) agree with the actions.
    const nlohmann::json& m = r.module_stats;
    CHECK(m["top.data_sram"]["bytes_read"] == count(s, "data_sram_read_bytes"));
    CHECK(m["top.weight_sram"]["bytes_written"] == count(s, "weight_sram_write_bytes"));
    CHECK(m["top.pattern_sram"]["bytes_read"] == count(s, "pattern_sram_read_bytes"));
    CHECK(m["top.dram"]["bytes_read"] == count(s, "dram_read_bytes"));
    CHECK(m["top.pe_group"]["spm_decoder"]["decodes"] == count(s, "spm_decodes"));
    CHECK(m["top.pe_group"]["partial_sums"]["writes"] == count(s, "psum_writes"));
    CHECK(m["top.pe_group"]["macs_issued"] == count(s, "macs_issued"));
    // Components add up to the totals; cycles to MAC and stall cycles.
    double parts = 0.0;
    for (const pcnn::ComponentInfo& c : pcnn::kComponents)
      if (c.on_chip) parts += s.energy.component_pj(c.id);
    CHECK(parts == Approx(s.energy.on_chip_pj()));
    CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
    CHECK(count(s, "kernel_register_reads") == s.macs_issued);
  }
  for (const pcnn::ActionField& a : pcnn::kActions) {
    std::uint64_t sum = 0;
    for (const pcnn::LayerResult& r : results) sum += a.count(r.stats);
    CHECK(a.count(total) == sum);
  }
  CHECK(total.energy.on_chip_pj() == Approx(on_chip));
  CHECK(total.energy.dram_pj() == Approx(dram));
}

TEST_CASE("the energy section: scaling with size, bad keys named", "[energy]") {
  pcnn::ArchConfig big;
  big.weight_sram.size_bytes = 4 * 128 * 1024;
  const pcnn::ResolvedEnergy base = pcnn::resolve_energy(pcnn::ArchConfig{});
  const pcnn::ResolvedEnergy r = pcnn::resolve_energy(big);
  const std::size_t w = pcnn::index_of(Component::weight_sram);
  // Cells (70%) x 4, bank and width periphery (10% + 20%) unchanged: x 3.1.
  CHECK(r.area_mm2[w] == Approx(3.1 * base.area_mm2[w]));
  CHECK(r.leakage_mw[w] == Approx(3.1 * base.leakage_mw[w]));
  for (std::size_t i = 0; i < pcnn::kActions.size(); ++i)
    if (pcnn::kActions[i].component == Component::weight_sram)
      CHECK(r.action_pj[i] == Approx(2 * base.action_pj[i]));  // sqrt(4)
  CHECK(base.on_chip_area_mm2() == Approx(8.00));              // Table IX

  const nlohmann::json good = {{"energy", {{"pe_group", {{"mac_pj", 0.5}}}}}};
  CHECK(pcnn::arch_from_json(good, "a.json").energy.pj("macs_issued") == 0.5);
  auto message = [](const nlohmann::json& j) {
    try {
      pcnn::arch_from_json(j, "a.json");
    } catch (const pcnn::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message({{"energy", {{"pe_group", {{"mac_pJ", 0.5}}}}}}) ==
        "a.json: energy.pe_group.mac_pJ: unknown key");
  CHECK(message({{"energy", {{"pe_grop", {}}}}}) == "a.json: energy.pe_grop: unknown key");
  CHECK(message({{"energy", {{"pe_group", {{"mac_pj", -1}}}}}}) ==
        "a.json: energy.pe_group.mac_pj: must be a finite number >= 0");
  CHECK(message({{"energy", {{"data_sram", {{"leakage_mw", "x"}}}}}}) ==
        "a.json: energy.data_sram.leakage_mw: expected a number");
  CHECK(message({{"energy", {{"weight_sram", {{"reference_size_bytes", 0}}}}}}) ==
        "a.json: energy.weight_sram.reference_size_bytes: must be positive");
  CHECK(message({{"energy", 3}}) == "a.json: energy: expected a JSON object");
  CHECK(message({{"energy", {{"post_process", {{"element_op_pj", -0.1}}}}}}) ==
        "a.json: energy.post_process.element_op_pj: must be a finite number >= 0");
  CHECK(message({{"energy", {{"data_sram", {{"reference_banks", 0}}}}}}) ==
        "a.json: energy.data_sram.reference_banks: must be positive");
  CHECK(message({{"energy", {{"pattern_sram", {{"reference_word_bytes", -4}}}}}}) ==
        "a.json: energy.pattern_sram.reference_word_bytes: must be positive");
  CHECK(message({{"energy", {{"sram_scaling", {{"bank_share", 0.1}}}}}}) ==
        "a.json: energy.sram_scaling.bank_share: unknown key");
  CHECK(message({{"energy", {{"sram_scaling", {{"width_periphery_share", 1.5}}}}}}) ==
        "a.json: energy.sram_scaling.width_periphery_share: must be in [0, 1)");
  CHECK(message({{"energy",
                  {{"sram_scaling",
                    {{"bank_periphery_share", 0.5}, {"width_periphery_share", 0.5}}}}}}) ==
        "a.json: energy.sram_scaling: bank_periphery_share + width_periphery_share must be below "
        "1 (the rest is the bit cells)");
  CHECK(message({{"energy", {{"sram_scaling", {{"access_fixed_bytes", -1}}}}}}) ==
        "a.json: energy.sram_scaling.access_fixed_bytes: must be in 0..1000000");
  // workloads/arch-default.json spells out the defaults.
  const pcnn::ArchConfig file =
      pcnn::read_arch_file(std::string(PCNN_SOURCE_DIR) + "/workloads/arch-default.json");
  CHECK(file.energy.action_pj == pcnn::ArchConfig{}.energy.action_pj);
  CHECK(file.energy.leakage_mw == pcnn::ArchConfig{}.energy.leakage_mw);
  CHECK(file.energy.area_mm2 == pcnn::ArchConfig{}.energy.area_mm2);
  CHECK(file.energy.reference_size_bytes == pcnn::ArchConfig{}.energy.reference_size_bytes);
  CHECK(file.energy.reference_word_bytes == pcnn::ArchConfig{}.energy.reference_word_bytes);
  CHECK(file.energy.reference_banks == pcnn::ArchConfig{}.energy.reference_banks);
  CHECK(file.energy.sram_scaling.access_fixed_bytes == 8.0);
  CHECK(file.energy.sram_scaling.bank_periphery_share == 0.1);
  CHECK(file.energy.sram_scaling.width_periphery_share == 0.2);
  // ... every key of them, the post-processing unit's included.
  std::ifstream default_file(std::string(PCNN_SOURCE_DIR) + "/workloads/arch-default.json");
  CHECK(nlohmann::json::parse(default_file).at("energy") ==
        pcnn::energy_config_to_json(pcnn::default_energy_config()));
  // The written architecture reads back to the same values.
  const pcnn::ArchConfig back = pcnn::arch_from_json(pcnn::arch_to_json(big), "back");
  CHECK(back.energy.action_pj == big.energy.action_pj);
  CHECK(back.energy.leakage_mw == big.energy.leakage_mw);
}

namespace {

double weight_read_pj_per_byte(const pcnn::ArchConfig& a) {
  for (std::size_t i = 0; i < pcnn::kActions.size(); ++i)
    if (std::string(pcnn::kActions[i].key) == "weight_sram_read_bytes")
      return pcnn::resolve_energy(a).action_pj[i];
  FAIL("no weight_sram_read_bytes action");
  return 0.0;
}

// Every VGG-16-CIFAR conv layer with n weights per kernel and `patterns`
// patterns (with `dense`, its dense equivalent), on random activations of
// density 0.5 (seed 1), simulated on the default architecture: the layers'
// summed counts, and their energy with every lane busy every cycle.
struct Vgg16CifarRun {
  pcnn::LayerStats total;
  pcnn::EnergyReport at_full_utilisation;
};

Vgg16CifarRun run_vgg16_cifar(int n, int patterns, bool dense) {
  std::mt19937_64 rng(1);
  std::vector<pcnn::LayerJob> jobs;
  for (const pcnn::ConvGeometry& g : pcnn::vgg16_cifar_conv_shapes()) {
    pcnn::LayerJob job;
    job.layer = pcnn::make_layer_with_geometry(g, n, patterns, true, rng, "c");
    if (dense) job.layer = pcnn::dense_equivalent(job.layer);
    job.input = pcnn::random_activations(g.input_elements(), 0.5, true, rng);
    jobs.push_back(std::move(job));
  }
  const pcnn::ArchConfig arch;
  Vgg16CifarRun run;
  for (const pcnn::LayerResult& r : pcnn::simulate_in_child(jobs, arch, {}))
    pcnn::add_counts(run.total, r.stats);
  run.at_full_utilisation =
      pcnn::energy_at_full_utilisation(run.total, pcnn::resolve_energy(arch), arch);
  return run;
}

}  // namespace

TEST_CASE("the second kernel-register set: area and leakage only with double buffering",
          "[energy]") {
  // Register bytes: per PE 60 kernel bytes per set and 256 partial sums of 4
  // bytes, plus the 9 x 60 window: two sets 64 x (120 + 1024) + 540 = 73,756,
  // one set 64 x (60 + 1024) + 540 = 69,916.
  const pcnn::ArchConfig two;
  pcnn::ArchConfig one;
  one.kernel_register_double_buffering = false;
  CHECK(pcnn::register_file_bytes(two) == 73756);
  CHECK(pcnn::register_file_bytes(one) == 69916);
  pcnn::ArchConfig tiny = one;  // 2 PEs, 6-word kernel registers, 4 partial sums
  tiny.pe_count = 2;
  tiny.kernel_register_words = 6;
  tiny.psum_entries_per_pe = 4;
  CHECK(pcnn::register_file_bytes(tiny) == 2 * (6 + 16) + 54);
  tiny.kernel_register_double_buffering = true;
  CHECK(pcnn::register_file_bytes(tiny) == 2 * (12 + 16) + 54);

  // Table IX's register file (1.36 mW leakage, 1.58 mm^2) has both sets; one
  // set leaves 69,916 / 73,756 of it: the second set is 3,840 bytes, 5.21%.
  const std::size_t rf = pcnn::index_of(Component::register_file);
  const pcnn::ResolvedEnergy e2 = pcnn::resolve_energy(two);
  const pcnn::ResolvedEnergy e1 = pcnn::resolve_energy(one);
  CHECK(e2.leakage_mw[rf] == Approx(1.36));
  CHECK(e2.area_mm2[rf] == Approx(1.58));
  CHECK(e1.leakage_mw[rf] == Approx(1.36 * 69916.0 / 73756.0));  // 1.2892 mW
  CHECK(e1.area_mm2[rf] == Approx(1.58 * 69916.0 / 73756.0));    // 1.4977 mm^2
  CHECK(e2.leakage_mw[rf] - e1.leakage_mw[rf] == Approx(0.07081).epsilon(1e-3));
  CHECK(e2.on_chip_area_mm2() - e1.on_chip_area_mm2() == Approx(0.08226).epsilon(1e-3));
  // A read or write touches one set, so no action costs more or less.
  CHECK(e1.action_pj == e2.action_pj);
  for (const pcnn::ComponentInfo& c : pcnn::kComponents)
    if (c.id != Component::register_file) {
      CHECK(e1.leakage_mw[pcnn::index_of(c.id)] == e2.leakage_mw[pcnn::index_of(c.id)]);
      CHECK(e1.area_mm2[pcnn::index_of(c.id)] == e2.area_mm2[pcnn::index_of(c.id)]);
    }
}

TEST_CASE("SRAM energy and area follow word width and bank count", "[energy]") {
  const pcnn::ArchConfig base;  // Weight SRAM: 128 KB, 64-byte words, 4 banks
  const std::size_t w = pcnn::index_of(Component::weight_sram);
  const double e0 = weight_read_pj_per_byte(base);
  REQUIRE(e0 == Approx(0.6047));  // the reference itself is not scaled
  const double area0 = pcnn::resolve_energy(base).area_mm2[w];
  REQUIRE(area0 == Approx(2.48));

  // Twice the word width: (8/128 + 1) / (8/64 + 1) = 17/18 per byte, so one access
  // (128 bytes) costs 2 x 17/18 = 1.889 times a 64-byte access: more per access,
  // less per byte. Periphery per bit doubles: 0.7 + 0.1 + 0.2 x 2 = 1.2 x area.
  pcnn::ArchConfig wide = base;
  wide.weight_sram.word_bytes = 128;
  const double e_wide = weight_read_pj_per_byte(wide);
  CHECK(e_wide == Approx(0.6047 * 17.0 / 18.0));
  CHECK(e_wide < e0);
  CHECK(128 * e_wide > 64 * e0);
  CHECK(128 * e_wide == Approx(73.1015).epsilon(1e-5));  // pJ per 128-byte access
  CHECK(pcnn::resolve_energy(wide).area_mm2[w] == Approx(1.2 * 2.48));
  CHECK(pcnn::resolve_energy(wide).leakage_mw[w] == Approx(1.2 * 10.67));

  // A narrower word: 16 bytes, (8/16 + 1) / (8/64 + 1) = 4/3 per byte, 1/3 per access.
  pcnn::ArchConfig narrow = base;
  narrow.weight_sram.word_bytes = 16;
  CHECK(weight_read_pj_per_byte(narrow) == Approx(0.6047 * 4.0 / 3.0));
  CHECK(16 * weight_read_pj_per_byte(narrow) < 64 * e0);

  // The same 128 KB in 8 banks: each bank half the size, sqrt(1/2) per access;
  // twice the banks' periphery: 0.7 + 0.1 x 2 + 0.2 x 2 = 1.3 x area.
  pcnn::ArchConfig banked = base;
  banked.weight_sram.banks = 8;
  CHECK(weight_read_pj_per_byte(banked) == Approx(0.6047 * std::sqrt(0.5)));
  CHECK(weight_read_pj_per_byte(banked) < e0);
  CHECK(pcnn::resolve_energy(banked).area_mm2[w] == Approx(1.3 * 2.48));

  // Four times the capacity in four times the banks: the same bank, the same
  // energy per byte; area 0.7 x 4 + 0.1 x 4 + 0.2 x 4 = 4 x.
  pcnn::ArchConfig more = base;
  more.weight_sram.size_bytes *= 4;
  more.weight_sram.banks *= 4;
  CHECK(weight_read_pj_per_byte(more) == Approx(e0));
  CHECK(pcnn::resolve_energy(more).area_mm2[w] == Approx(4 * 2.48));

  // The rule's factors by hand for Data SRAM at 64 KB, 8-byte words, 2 banks
  // (reference 160 KB, 16 bytes, 8 banks): bank ratio (32 KB) / (20 KB) = 1.6,
  // sqrt(1.6) x (8/8 + 1) / (8/16 + 1) = 1.26491 x 4/3 = 1.68655 per byte;
  // 0.7 x 0.4 + 0.1 x 0.25 + 0.2 x (2 x 8) / (8 x 16) = 0.28 + 0.025 + 0.025 = 0.33.
  const pcnn::SramScale s =
      pcnn::sram_scale({64 * 1024, 8, 2, 1}, base.energy, Component::data_sram);
  CHECK(s.energy_per_byte == Approx(1.68655).epsilon(1e-5));
  CHECK(s.leakage_and_area == Approx(0.33));

  // Without access_fixed_bytes the energy per byte ignores the width.
  pcnn::ArchConfig no_fixed = wide;
  no_fixed.energy.sram_scaling.access_fixed_bytes = 0.0;
  CHECK(weight_read_pj_per_byte(no_fixed) == Approx(e0));
}

TEST_CASE("Table IX: VGG-16-CIFAR dense on the default architecture", "[energy][calibration]") {
  // The calibration's workload: every VGG-16-CIFAR conv layer dense, random
  // activations of density 0.5 (mode off: the counts do not depend on them).
  const auto [total, full] = run_vgg16_cifar(4, 16, /*dense=*/true);
  const pcnn::ArchConfig arch;
  // Table IX: power (mW) and share per component at the chip's peak rate.
  const std::pair<Component, double> table[] = {{Component::data_sram, 13.7},
                                                {Component::weight_sram, 15.6},
                                                {Component::pattern_sram, 0.9},
                                                {Component::register_file, 13.6},
                                                {Component::pe_group, 4.9}};
  for (const auto& [c, mw] : table) {
    INFO(pcnn::kComponents[pcnn::index_of(c)].name);
    CHECK(full.power_mw(c) == Approx(mw).epsilon(0.05));
    CHECK(full.power_mw(c) / full.on_chip_power_mw() == Approx(mw / 48.7).epsilon(0.05));
  }
  CHECK(full.on_chip_power_mw() == Approx(48.7).epsilon(0.05));
  CHECK(full.tops_per_w_dense_equivalent() == Approx(3.15).epsilon(0.05));
  // The paper's definition of its 3.15: peak throughput, 256 MACs x 2 ops x 300 MHz
  // = 153.6 GOPS, over the chip's power with every lane busy.
  const double peak_ops_per_s = 2.0 * arch.pe_count * arch.lanes_per_pe * arch.clock_mhz * 1e6;
  CHECK(peak_ops_per_s == Approx(153.6e9));
  const double paper_tops_per_w = peak_ops_per_s / (full.on_chip_power_mw() * 1e-3) / 1e12;
  CHECK(paper_tops_per_w == Approx(full.tops_per_w_dense_equivalent()));
  CHECK(paper_tops_per_w == Approx(3.15).epsilon(0.05));
  // The run itself: its lanes are busy 88% of the cycles and the chip leaks in
  // the others, so it is less efficient than the peak (docs/energy.md).
  const double run = total.energy.tops_per_w_dense_equivalent();
  std::printf(
      "VGG-16-CIFAR dense: %.3f TOPS/W over the run, %.3f at full utilisation, "
      "%.2f mW over the run\n",
      run, full.tops_per_w_dense_equivalent(), total.energy.on_chip_power_mw());
  CHECK(run < full.tops_per_w_dense_equivalent());
  CHECK(run > 0.85 * full.tops_per_w_dense_equivalent());
}

TEST_CASE("the paper's TOPS/W at n = 1: 9x the work per cycle, more power than dense",
          "[energy][calibration]") {
  // 28.39 TOPS/W = 3.154 x 9.0: nine times the dense-equivalent work per busy
  // cycle at the dense chip's 48.7 mW. The model keeps the 9.0 (the same work at
  // full utilisation takes a ninth of the cycles) but not the power.
  const auto [total, full] = run_vgg16_cifar(1, 8, /*dense=*/false);
  const pcnn::ArchConfig arch;
  const double dense_cycles_at_full = static_cast<double>(total.dense_macs) / 256.0;
  const double cycles_at_full = full.time_ns * arch.clock_mhz / 1000.0;
  CHECK(dense_cycles_at_full / cycles_at_full == Approx(9.0).epsilon(0.01));
  // Per busy cycle, n = 1 reads more activations, indices and pointers per MAC.
  CHECK(full.on_chip_power_mw() > 48.7);
  CHECK(full.power_mw(Component::data_sram) > 13.7);
  // So TOPS/W falls short of 28.39 by the power ratio alone.
  const double tops = full.tops_per_w_dense_equivalent();
  CHECK(tops ==
        Approx(3.154 * (dense_cycles_at_full / cycles_at_full) * 48.7 / full.on_chip_power_mw())
            .epsilon(0.01));
  std::printf("VGG-16-CIFAR n=1 V=8 at full utilisation: %.2f mW, %.3f TOPS/Wd (paper 28.39)\n",
              full.on_chip_power_mw(), tops);
}

TEST_CASE("measured index overhead of VGG-16-CIFAR n = 4, V = 16", "[energy][index]") {
  // 4-bit SPM indices against 4 int8 weights per kernel (15 kernels fill a
  // 60-byte row exactly): 4 / 32 = 12.5%, four times the paper's 3.1%
  // (a 4 KB Pattern SRAM beside a 128 KB Weight SRAM), docs/energy.md.
  std::mt19937_64 rng(2);
  pcnn::IndexOverhead total;
  for (const pcnn::ConvGeometry& g : pcnn::vgg16_cifar_conv_shapes()) {
    const pcnn::SpmLayer l = pcnn::make_layer_with_geometry(g, 4, 16, true, rng, "c");
    const pcnn::IndexOverhead o = pcnn::index_overhead(l);
    CHECK(o.index_bits == static_cast<std::uint64_t>(g.kernel_count()) * 4);
    CHECK(o.ratio() <= 0.125);
    total += o;
  }
  CHECK(total.ratio() == Approx(0.125).epsilon(0.002));
  std::printf("VGG-16-CIFAR n=4 V=16 index overhead %.4f%% (paper 3.1%%)\n", 100.0 * total.ratio());
}
