// The PE-group core (models/pe_core/) without a simulation kernel: a fake
// memory with fixed access times stands in for the SRAMs and the host, a loop
// clocks the core, and the cycles of every stage are computed by hand for each
// activation mode. Outputs are checked against the golden convolution.
#include <catch2/catch.hpp>

#include <functional>
#include <random>

#include "models/pe_core/pe_core.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/dense_twin_cache.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace {

// SRAM contents laid out as the host lays them out, access times fixed, every
// buffer of the layer in place when `ready_from` cycles have passed.
class FakeMemory : public pcnn::PeCorePorts {
 public:
  FakeMemory(const pcnn::SpmLayer& layer, const pcnn::TilePlan& plan, const pcnn::ArchConfig& arch,
             const std::vector<std::int8_t>& input)
      : layer_(layer), plan_(plan), arch_(arch) {
    const pcnn::ConvGeometry& g = layer.geom;
    REQUIRE(plan.bands.size() == 1);
    REQUIRE(plan.tiles * plan.chunks_per_tile == 1);
    weight_.assign(plan.weight_buffer_bytes, 0);
    pattern_.assign(plan.pattern_buffer_bytes, 0);
    data_.assign(plan.output_buffer_address(0) + plan.output_buffer_bytes, 0);
    for (int c = 0; c < g.in_channels; ++c)  // [C][H][W] -> [H][W][C]
      for (int i = 0; i < g.in_h * g.in_w; ++i)
        data_[static_cast<std::size_t>(i) * g.in_channels + c] =
            static_cast<std::uint8_t>(input[static_cast<std::size_t>(c) * g.in_h * g.in_w + i]);
    // One kernel-register row per (group, PE); one packed index block per group.
    const int kpr = plan.channels_per_group, n = layer.n, C = g.in_channels;
    for (int grp = 0; grp < plan.groups; ++grp) {
      std::vector<std::uint32_t> indices(static_cast<std::size_t>(arch.pe_count) * kpr, 0);
      for (int pe = 0; pe < g.out_channels; ++pe)
        for (int c = 0; c < plan.group_channels(grp, C); ++c) {
          const std::int64_t k = static_cast<std::int64_t>(pe) * C + grp * kpr + c;
          for (int i = 0; i < n; ++i)
            weight_[grp * plan.weight_group_bytes + pe * arch.kernel_register_words + c * n + i] =
                static_cast<std::uint8_t>(layer.nonzeros[k * n + i]);
          if (layer.pattern_pruned) indices[pe * kpr + c] = layer.kernel_index[k];
        }
      const std::vector<std::uint8_t> block = pcnn::pack_bits(indices, plan.index_bits);
      std::copy(block.begin(),
                block.begin() + static_cast<std::ptrdiff_t>(plan.pattern_group_bytes),
                pattern_.begin() + static_cast<std::ptrdiff_t>(grp * plan.pattern_group_bytes));
    }
  }

  std::uint64_t weight_cycles = 5, pattern_cycles = 2, window_cycles = 1, writeback_cycles = 1;
  std::uint64_t ready_from = 0;  // cycle before which no buffer is ready
  std::uint64_t now = 0;         // set by the test loop
  int weight_reads = 0, pattern_reads = 0, window_reads = 0, writebacks = 0;
  int chunk_releases = 0, band_releases = 0, band_fills = 0;

  std::uint64_t read_weight_sram(std::uint64_t a, std::uint8_t* d, std::size_t len) override {
    REQUIRE(a + len <= weight_.size());
    std::copy_n(weight_.begin() + static_cast<std::ptrdiff_t>(a), len, d);
    ++weight_reads;
    return weight_cycles;
  }
  std::uint64_t read_pattern_sram(std::uint64_t a, std::uint8_t* d, std::size_t len) override {
    REQUIRE(a + len <= pattern_.size());
    std::copy_n(pattern_.begin() + static_cast<std::ptrdiff_t>(a), len, d);
    ++pattern_reads;
    return pattern_cycles;
  }
  std::uint64_t gather_data_sram(const std::vector<pcnn::MemSegment>& segs, std::uint8_t* d,
                                 std::size_t len) override {
    std::size_t at = 0;
    for (const pcnn::MemSegment& s : segs) {
      REQUIRE(s.address + s.length <= plan_.input_buffer_bytes);  // input buffer 0
      std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(s.address), s.length, d + at);
      at += s.length;
    }
    REQUIRE(at == len);
    ++window_reads;
    return window_cycles;
  }
  std::uint64_t scatter_data_sram(const std::vector<pcnn::MemSegment>& segs, const std::uint8_t* d,
                                  std::size_t len) override {
    std::size_t at = 0;
    for (const pcnn::MemSegment& s : segs) {
      REQUIRE(s.address >= plan_.output_buffer_address(0));
      REQUIRE(s.address + s.length <= data_.size());
      std::copy_n(d + at, s.length, data_.begin() + static_cast<std::ptrdiff_t>(s.address));
      at += s.length;
    }
    REQUIRE(at == len);
    ++writebacks;
    return writeback_cycles;
  }
  bool weight_chunk_ready(std::int64_t) override { return now >= ready_from; }
  void release_weight_chunk() override { ++chunk_releases; }
  bool input_band_ready(int) override { return now >= ready_from; }
  void release_input_band() override { ++band_releases; }
  bool output_band_free(int) override { return true; }
  void fill_output_band() override { ++band_fills; }

  // The output buffer as [M][OH][OW].
  std::vector<std::int8_t> output() const {
    const pcnn::ConvGeometry& g = layer_.geom;
    const int P = g.out_h() * g.out_w(), M = g.out_channels;
    std::vector<std::int8_t> out(static_cast<std::size_t>(P) * M);
    for (int p = 0; p < P; ++p)
      for (int m = 0; m < M; ++m)
        out[static_cast<std::size_t>(m) * P + p] = static_cast<std::int8_t>(
            data_[plan_.output_buffer_address(0) + static_cast<std::size_t>(p) * M + m]);
    return out;
  }

 private:
  const pcnn::SpmLayer& layer_;
  const pcnn::TilePlan& plan_;
  const pcnn::ArchConfig& arch_;
  std::vector<std::uint8_t> weight_, pattern_, data_;
};

// 2 PEs x 4 lanes, 12-word kernel register (4 kernels of n = 3 per row).
pcnn::ArchConfig tiny_arch() {
  pcnn::ArchConfig a;
  a.pe_count = 2;
  a.lanes_per_pe = 4;
  a.kernel_register_words = 12;
  a.psum_entries_per_pe = 64;
  a.kernel_register_double_buffering = false;  // the hand-computed timelines below
  return a;
}

// C = 8, M = 2, 6x6 input, no padding: 16 output positions, n = 3, V = 2.
pcnn::SpmLayer tiny_layer() {
  std::mt19937_64 rng(3);
  pcnn::ConvGeometry g;
  g.in_channels = 8;
  g.out_channels = 2;
  g.in_h = g.in_w = 6;
  return pcnn::make_layer_with_geometry(g, 3, 2, false, rng, "tiny");
}

pcnn::PatternTable table_of(const pcnn::SpmLayer& layer) {
  pcnn::PatternTable t;
  t.kernel_size = layer.geom.kernel_size();
  t.n = layer.n;
  if (layer.pattern_pruned) t.masks = layer.patterns;
  return t;
}

std::vector<std::int8_t> channel0_input() {  // only channel 0 is non-zero
  std::vector<std::int8_t> in(8 * 36, 0);
  for (int i = 0; i < 36; ++i) in[i] = static_cast<std::int8_t>(1 + i % 7);
  return in;
}

struct Run {
  pcnn::PeCoreStats stats;
  nlohmann::json blocks;
  std::vector<std::int8_t> output;
  int weight_reads, pattern_reads, window_reads, writebacks, chunk_releases, band_releases;
};

// Clocks the core edge by edge (or booking MAC-only edges at once) until done.
Run run_layer(const pcnn::ArchConfig& arch, const pcnn::SpmLayer& layer, pcnn::ActMode mode,
              const std::vector<std::int8_t>& input,
              const std::function<void(FakeMemory&)>& setup = {}, bool book_mac_edges = false,
              bool stream_detail = false) {
  const pcnn::TilePlan plan = pcnn::make_tile_plan(layer, arch);
  const pcnn::PatternTable pac = table_of(layer);
  FakeMemory mem(layer, plan, arch, input);
  if (setup) setup(mem);
  pcnn::PeCore core(arch, mem);
  core.set_stream_detail(stream_detail);
  core.start(layer, plan, pac, mode);
  while (core.running()) {
    REQUIRE(core.cycle() < 100000);
    mem.now = core.cycle() + 1;
    core.tick();
    if (book_mac_edges) core.book_mac_edges(core.mac_only_edges_ahead());
  }
  CHECK(mem.output() == pcnn::golden_conv_layer(layer, input));
  const pcnn::PeCoreStats& s = core.stats();
  CHECK(s.mac_cycles + s.stalls.total() == s.cycles);
  return {s,
          core.block_counters(),
          mem.output(),
          mem.weight_reads,
          mem.pattern_reads,
          mem.window_reads,
          mem.writebacks,
          mem.chunk_releases,
          mem.band_releases};
}

Run run(pcnn::ActMode mode, const std::vector<std::int8_t>& input,
        const std::function<void(FakeMemory&)>& setup = {}, bool book_mac_edges = false) {
  return run_layer(tiny_arch(), tiny_layer(), mode, input, setup, book_mac_edges);
}

// Per pass (2 groups of 4 channels): refill = weight burst 5 cycles (the
// 2-cycle index burst hides under it) + 1 decode/load cycle; 1 cycle of pointer
// generation before the first MAC; 16 steps. Then 1 write-back cycle.
void check_common(const Run& r) {
  const pcnn::PeCoreStats& s = r.stats;
  CHECK(s.refills == 2);
  CHECK(s.steps == 32);
  CHECK(s.stalls.weight_sram == 2 * 5);
  CHECK(s.stalls.pattern_sram == 0);
  CHECK(s.stalls.register_refill == 2);
  CHECK(s.stalls.fill_drain == 2);
  CHECK(s.stalls.data_sram == 0);
  CHECK(s.stalls.writeback == 1);
  CHECK(s.spm_decodes == 2 * 2 * 4);
  CHECK(r.weight_reads == 2);
  CHECK(r.pattern_reads == 2);
  CHECK(r.writebacks == 1);
  CHECK(r.chunk_releases == 1);
  CHECK(r.band_releases == 1);
  // Window register: a row's first window loads 3 columns of 3 rows of 4
  // channels (36 bytes), the next three shift by one column and load one
  // (12 bytes, 24 shifted); 4 rows per pass, 2 passes.
  CHECK(r.window_reads == 2 * 16);
  CHECK(r.blocks["window_register"]["write_bytes"] == 2 * 4 * (36 + 3 * 12));
  CHECK(r.blocks["window_register"]["shift_bytes"] == 2 * 4 * 3 * 24);
  CHECK(r.blocks["kernel_register"]["write_bytes"] == 2 * 2 * 12);
  CHECK(r.blocks["spm_decoder"]["decodes"] == s.spm_decodes);
  CHECK(r.blocks["requantiser"]["requantisations"] == 2 * 16);
  CHECK(r.blocks["mac_lanes"]["macs_issued"] == s.macs_issued);
  CHECK(r.blocks["kernel_register"]["reads"] == s.macs_issued);
  CHECK(r.blocks["window_register"]["reads"] == s.macs_issued);
}

}  // namespace

TEST_CASE("PE core, mode off: hand-computed cycles per stage and block counts", "[pe_core]") {
  const Run r = run(pcnn::ActMode::off, channel0_input());
  check_common(r);
  // Every step streams 4 kernels x 3 weights = 12 MACs over 4 lanes: 3 cycles.
  CHECK(r.stats.mac_cycles == 2 * 16 * 3);
  CHECK(r.stats.cycles == 2 * (5 + 1 + 1 + 16 * 3) + 1);
  CHECK(r.stats.stalls.dram == 0);
  CHECK(r.stats.macs_issued == 2u * 16 * 2 * 12);
  // Pointers are made once per refill in mode off: 2 PEs x 4 kernels x 2 refills.
  CHECK(r.blocks["pointer_generator"]["generations"] == 16);
  // Partial sums: group 0 writes 16 x 2 entries, group 1 reads and writes
  // them, the write-back reads them.
  CHECK(r.blocks["partial_sums"]["writes"] == 32 + 32);
  CHECK(r.blocks["partial_sums"]["reads"] == 32 + 32);
}

TEST_CASE("PE core, mode gate: cycles as off, only effectual MACs issued", "[pe_core]") {
  const Run r = run(pcnn::ActMode::gate, channel0_input());
  check_common(r);
  CHECK(r.stats.mac_cycles == 2 * 16 * 3);
  CHECK(r.stats.cycles == 2 * (5 + 1 + 1 + 16 * 3) + 1);
  CHECK(r.stats.macs_issued == 2u * 16 * 3);  // channel 0's 3 weights per PE
  CHECK(r.stats.macs_effectual <= r.stats.macs_issued);
  // Pointers per step: 2 PEs x 4 kernels x 32 steps.
  CHECK(r.blocks["pointer_generator"]["generations"] == 2 * 4 * 32);
  // Group 1 issues nothing: its steps touch no partial sum.
  CHECK(r.blocks["partial_sums"]["writes"] == 32);
  CHECK(r.blocks["partial_sums"]["reads"] == 32);
}

TEST_CASE("PE core, mode skip: a step costs the slowest PE, at least one cycle", "[pe_core]") {
  const Run r = run(pcnn::ActMode::skip, channel0_input());
  check_common(r);
  // Group 0: 3 effectual MACs per PE -> 1 cycle; group 1: none -> 1 cycle.
  CHECK(r.stats.mac_cycles == 32);
  CHECK(r.stats.cycles == 2 * (5 + 1 + 1 + 16) + 1);
  CHECK(r.stats.macs_issued == 2u * 16 * 3);
}

// Double-buffered kernel registers: pass 1's registers load in cycles 7..12
// while pass 0 computes (MAC cycles 8..55); pass 1 starts the cycle pass 0's
// last step leaves stage 3 (its window enters stage 2 then), so its only
// overhead is one cycle of pointer generation: 6 + 1 + 48 + 1 + 48 + 1 = 105.
TEST_CASE("PE core: double-buffered kernel registers hide the second refill", "[pe_core]") {
  pcnn::ArchConfig arch = tiny_arch();
  arch.kernel_register_double_buffering = true;
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip})
    for (bool book : {false, true}) {
      INFO("mode " << pcnn::to_string(mode) << " booking MAC-only edges " << book);
      const Run r = run_layer(arch, tiny_layer(), mode, channel0_input(), {}, book);
      const pcnn::PeCoreStats& s = r.stats;
      const std::uint64_t step = mode == pcnn::ActMode::skip ? 1 : 3;
      CHECK(s.refills == 2);
      CHECK(s.steps == 32);
      CHECK(s.stalls.weight_sram == 5);
      CHECK(s.stalls.register_refill == 1);
      CHECK(s.stalls.fill_drain == 2);
      CHECK(s.stalls.writeback == 1);
      CHECK(s.stalls.data_sram == 0);
      CHECK(s.stalls.dram == 0);
      CHECK(s.mac_cycles == 32 * step);
      CHECK(s.cycles == 6 + 1 + 16 * step + 1 + 16 * step + 1);
      CHECK(r.chunk_releases == 1);
      CHECK(r.weight_reads == 2);
      CHECK(r.blocks["kernel_register"]["write_bytes"] == 2 * 2 * 12);
    }
}

TEST_CASE("PE core: buffers not ready are DRAM stalls, a slow gather is data_sram", "[pe_core]") {
  // Nothing is in SRAM before cycle 11: ten DRAM stall cycles up front.
  const Run late =
      run(pcnn::ActMode::off, channel0_input(), [](FakeMemory& m) { m.ready_from = 11; });
  CHECK(late.stats.stalls.dram == 10);
  CHECK(late.stats.cycles == 10 + 2 * (5 + 1 + 1 + 16 * 3) + 1);
  // Windows of 3 cycles behind 1-cycle skip steps: stage 1 paces the pass.
  // Pass: the first window arrives with the refill; each later one 3 cycles
  // after the previous one, so 15 x 2 waiting cycles per pass: one while its
  // pointers are made (booked as fill_drain, stage 2 is busy) and one in which
  // stage 3 waits with the next window still on its way (data_sram).
  const Run slow =
      run(pcnn::ActMode::skip, channel0_input(), [](FakeMemory& m) { m.window_cycles = 3; });
  CHECK(slow.stats.mac_cycles == 32);
  CHECK(slow.stats.stalls.data_sram == 2 * 15);
  CHECK(slow.stats.stalls.fill_drain == 2 * (1 + 15));
  CHECK(slow.stats.cycles == 2 * (5 + 1 + 1 + 16 + 15 * 2) + 1);
}

TEST_CASE("PE core: booking MAC-only edges at once changes nothing", "[pe_core]") {
  std::mt19937_64 rng(11);
  const std::vector<std::int8_t> in = pcnn::random_activations(8 * 36, 0.5, false, rng);
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    const Run a = run(mode, in, {}, false);
    const Run b = run(mode, in, {}, true);
    CHECK(a.output == b.output);
    CHECK(a.blocks == b.blocks);
    CHECK(a.stats.cycles == b.stats.cycles);
    CHECK(a.stats.mac_cycles == b.stats.mac_cycles);
    CHECK(a.stats.stalls.total() == b.stats.stalls.total());
  }
}

TEST_CASE("PE core: gate and skip steps counted from packed masks equal the full pointer streams",
          "[pe_core]") {
  // Kernel registers of 12 kernels (n = 1) or 6 (n = 2) of 3x3, 2x5 and 4x4
  // kernels: the packed masks span one to three 64-bit words and kernels
  // straddle word boundaries. Activations include -128.
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    pcnn::ArchConfig arch = tiny_arch();
    arch.pe_count = 3;
    pcnn::ConvGeometry g;
    g.in_channels = 5 + static_cast<int>(seed % 8);
    g.out_channels = 1 + static_cast<int>(seed % 3);
    const int shape = static_cast<int>(seed % 3);
    g.kernel_h = shape == 0 ? 3 : shape == 1 ? 2 : 4;
    g.kernel_w = shape == 0 ? 3 : shape == 1 ? 5 : 4;
    g.in_h = g.kernel_h + 2;
    g.in_w = g.kernel_w + 3;
    const int n = 1 + static_cast<int>(seed % 2);
    const pcnn::SpmLayer layer = pcnn::make_layer_with_geometry(g, n, 4, false, rng, "straddle");
    std::vector<std::int8_t> in = pcnn::random_activations(g.input_elements(), 0.6, false, rng);
    in[seed % in.size()] = -128;
    INFO("seed " << seed);
    for (pcnn::ActMode mode : {pcnn::ActMode::gate, pcnn::ActMode::skip}) {
      const Run fast = run_layer(arch, layer, mode, in, {}, true, false);
      const Run full = run_layer(arch, layer, mode, in, {}, true, true);
      CHECK(fast.output == full.output);
      CHECK(fast.blocks == full.blocks);
      CHECK(fast.stats.cycles == full.stats.cycles);
      CHECK(fast.stats.mac_cycles == full.stats.mac_cycles);
      CHECK(fast.stats.macs_issued == full.stats.macs_issued);
      CHECK(fast.stats.macs_effectual == full.stats.macs_effectual);
      CHECK(fast.stats.stalls.total() == full.stats.stalls.total());
    }
  }
}

TEST_CASE("PE core: MAC lanes over random kernels match the golden and count effectual MACs",
          "[pe_core]") {
  // The lanes sum each step as dot products over the window positions
  // (lane_dot.hpp); outputs are checked against the golden convolution by
  // run_layer, effectual MACs against a count over the dense weights. Kernels of
  // 3x3, 2x5, 4x4 and 1x1, n from 1 to K, padding, -128 weights and activations.
  const std::uint64_t first = std::random_device{}() % 100000;
  for (std::uint64_t seed = first; seed < first + 16; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    pcnn::ArchConfig arch = tiny_arch();
    arch.pe_count = 1 + static_cast<int>(rng() % 4);
    arch.lanes_per_pe = 1 + static_cast<int>(rng() % 6);
    arch.kernel_register_words = 16;
    arch.kernel_register_double_buffering = rng() % 2 == 0;
    pcnn::ConvGeometry g;
    const int shape = static_cast<int>(rng() % 4);
    g.kernel_h = shape == 0 ? 3 : shape == 1 ? 2 : shape == 2 ? 4 : 1;
    g.kernel_w = shape == 0 ? 3 : shape == 1 ? 5 : shape == 2 ? 4 : 1;
    g.in_channels = 1 + static_cast<int>(rng() % 9);
    g.out_channels = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(arch.pe_count));
    g.in_h = g.kernel_h + static_cast<int>(rng() % 3);
    g.in_w = g.kernel_w + static_cast<int>(rng() % 3);
    if (rng() % 2) g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = g.kernel_h > 1 ? 1 : 0;
    const int K = g.kernel_h * g.kernel_w;
    const int n = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(std::min(K, 8)));
    std::uint64_t masks = 1;  // C(K, n): the most patterns there can be
    for (int i = 0; i < n; ++i) masks = masks * static_cast<std::uint64_t>(K - i) / (i + 1);
    const int V = 1 + static_cast<int>(rng() % std::min<std::uint64_t>(4, masks));
    pcnn::SpmLayer layer = pcnn::make_layer_with_geometry(g, n, V, rng() % 2 == 0, rng, "lanes");
    for (int i = 0; i < 3; ++i) layer.nonzeros[rng() % layer.nonzeros.size()] = -128;
    std::vector<std::int8_t> in = pcnn::random_activations(g.input_elements(), 0.6, false, rng);
    in[rng() % in.size()] = -128;
    const std::uint64_t effectual = pcnn::dense_effectual_macs(layer, in);
    for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
      const Run r = run_layer(arch, layer, mode, in, {}, true, rng() % 2 == 0);
      CHECK(r.stats.macs_effectual == effectual);
      CHECK(r.stats.macs_issued >= r.stats.macs_effectual);
    }
  }
}

TEST_CASE("PE core: Pattern Config that disagrees with the plan is refused", "[pe_core]") {
  const pcnn::ArchConfig arch = tiny_arch();
  const pcnn::SpmLayer layer = tiny_layer();
  const pcnn::TilePlan plan = pcnn::make_tile_plan(layer, arch);
  pcnn::PatternTable pac = table_of(layer);
  pac.n = 4;  // the host programmed another n than the layer was cut for
  FakeMemory mem(layer, plan, arch, channel0_input());
  pcnn::PeCore core(arch, mem);
  CHECK_THROWS_WITH(core.start(layer, plan, pac, pcnn::ActMode::off),
                    Catch::Contains("disagrees with the tile plan"));
}
