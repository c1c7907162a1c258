// Whole networks on the simulated accelerator (pcnn/sim/network_run.hpp):
// every tensor bit-exact against the golden network executor, in every
// activation mode, for hand-built chains, VGG-16-CIFAR, ResNet-18-CIFAR and a
// seeded random family; bad networks refused up front.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "network_test_support.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/sim/network_run.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

std::uint64_t test_seed() { return Catch::rngSeed() != 0 ? Catch::rngSeed() : 11u; }

std::vector<std::int8_t> random_input(const pcnn::GoldenNetwork& g, std::mt19937_64& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<std::size_t>(g.network().tensors[g.network().input].elements()));
  for (auto& v : x) v = normal(rng);
  return g.quantise_input(x);
}

// Runs the network in every mode and checks every tensor against the golden
// executor's; returns the mode-off result.
pcnn::NetworkRunResult check_bit_exact(const pcnn_test::Pruned& p,
                                       const std::vector<std::int8_t>& x, bool with_dense) {
  const pcnn::GoldenNetwork g(p.pruned.images, p.net);
  std::vector<std::vector<std::int8_t>> golden(p.net.tensors.size());
  golden[p.net.input] = x;
  g.run(x, [&](const pcnn::NetNode& n, const pcnn::NetTensor&, const std::vector<std::int8_t>& v) {
    golden[n.output] = v;
  });
  pcnn::NetworkRunResult off;
  for (const pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    INFO("mode " << pcnn::to_string(mode));
    pcnn::NetworkRunOptions opt;
    opt.sim.act_mode = mode;
    opt.with_dense = with_dense;
    pcnn::NetworkRunResult r =
        pcnn::simulate_network_in_child(p.pruned.images, p.net, x, pcnn::ArchConfig{}, opt);
    REQUIRE(r.tensors.size() == golden.size());
    for (std::size_t t = 0; t < golden.size(); ++t) {
      INFO("tensor " << p.net.tensors[t].name);
      CHECK(r.tensors[t] == golden[t]);
    }
    REQUIRE(r.steps.size() == p.net.nodes.size());
    std::uint64_t sum = 0;
    for (const pcnn::NetworkStepResult& s : r.steps) {
      sum += s.stats.cycles;
      if (s.unit == pcnn::NetUnit::pe_group) {
        CHECK(s.stats.cycles > 0);
        CHECK(s.stats.mac_cycles + s.stats.stalls.total() == s.stats.cycles);
        CHECK(s.stats.energy.total_pj() > 0);
      }
    }
    CHECK(r.total.cycles == sum);
    CHECK(r.total.energy.total_pj() > 0);
    if (mode == pcnn::ActMode::off) off = std::move(r);
  }
  return off;
}

}  // namespace

TEST_CASE("a conv and gemm chain runs whole on the accelerator bit-exact in every mode",
          "[network_run]") {
  TempDir tmp;
  pcnn::ModelBuilder b("chain", {1, 3, 9, 8}, 5);
  pcnn::ConvOptions s2;
  s2.stride = 2;
  s2.pad = 1;
  pcnn::ConvOptions one;
  one.kernel = 1;
  one.bias = true;
  const std::string c1 = b.relu(b.batch_norm(b.conv(b.input(), 8)));
  const std::string c2 = b.relu(b.conv(c1, 70, s2));  // two tiles of 64 PEs
  const std::string c3 = b.conv(c2, 6, one);          // no ReLU: negative values flow on
  b.gemm(b.flatten(c3), 5);                           // flatten of [6,5,4]: a host relayout
  b.write(tmp / "m.onnx");
  const pcnn_test::Pruned p = pcnn_test::prune(tmp / "m.onnx", 4);
  std::mt19937_64 rng(test_seed());
  INFO("seed " << test_seed());
  const pcnn::GoldenNetwork g(p.pruned.images, p.net);
  const std::vector<std::int8_t> x = random_input(g, rng);
  const pcnn::NetworkRunResult r = check_bit_exact(p, x, true);
  int relayouts = 0;
  for (const pcnn::NetworkStepResult& s : r.steps) {
    const pcnn::NetNode& n = p.net.nodes[s.node];
    if (n.op == pcnn::Int8Op::reshape) {
      CHECK(s.unit == pcnn::NetUnit::host);
      CHECK(s.stats.dram.bytes_read == 120);
      CHECK(s.stats.dram.bytes_written == 120);
      CHECK(s.stats.cycles > 0);
      ++relayouts;
    }
    if (n.op == pcnn::Int8Op::conv) {  // the 3x3 convs are pattern-pruned, the 1x1 dense
      const bool pruned = p.pruned.images.layers[n.layer].pattern_pruned;
      CHECK(s.has_dense == pruned);
      if (pruned) CHECK(s.dense.cycles > s.stats.cycles);  // n = 4 of 9
    }
  }
  CHECK(relayouts == 1);
  CHECK(r.dense_cycles > r.total.cycles);

  // Small buffers, single buffering: layers cut into bands through DRAM, same tensors.
  const pcnn::ArchConfig small =
      pcnn::read_arch_file(std::string(PCNN_SOURCE_DIR) + "/workloads/arch-small-buffers.json");
  pcnn::NetworkRunOptions opt;
  opt.with_dense = false;
  const pcnn::NetworkRunResult banded =
      pcnn::simulate_network_in_child(p.pruned.images, p.net, x, small, opt);
  CHECK(banded.tensors == r.tensors);
  CHECK(banded.total.cycles != r.total.cycles);
}

TEST_CASE("the architecture's post_process lanes change the unit's cycles, not its outputs",
          "[network_run][post_process]") {
  TempDir tmp;
  pcnn::ModelBuilder b("pool", {1, 3, 12, 12}, 7);
  const std::string c1 = b.relu(b.conv(b.input(), 8));          // [8,12,12]
  const std::string p1 = b.max_pool(c1, 2, 2);                   // [8,6,6] on the unit
  b.conv(b.add(b.average_pool(p1, 3, 1, 1), p1), 4);
  b.write(tmp / "m.onnx");
  const pcnn_test::Pruned p = pcnn_test::prune(tmp / "m.onnx", 4);
  const pcnn::GoldenNetwork g(p.pruned.images, p.net);
  std::mt19937_64 rng(test_seed());
  const std::vector<std::int8_t> x = random_input(g, rng);
  pcnn::ArchConfig narrow;
  narrow.post_process.lanes = 4;
  const pcnn::NetworkRunOptions opt;
  const pcnn::NetworkRunResult wide_r =
      pcnn::simulate_network_in_child(p.pruned.images, p.net, x, pcnn::ArchConfig{}, opt);
  const pcnn::NetworkRunResult narrow_r =
      pcnn::simulate_network_in_child(p.pruned.images, p.net, x, narrow, opt);
  CHECK(narrow_r.tensors == wide_r.tensors);
  REQUIRE(narrow_r.steps.size() == wide_r.steps.size());
  int pools = 0, unit_rows = 0;
  for (std::size_t i = 0; i < wide_r.steps.size(); ++i) {
    const pcnn::NetNode& n = p.net.nodes[i];
    INFO("node " << n.name);
    const pcnn::LayerStats& w = wide_r.steps[i].stats;
    const pcnn::LayerStats& s = narrow_r.steps[i].stats;
    if (wide_r.steps[i].unit == pcnn::NetUnit::post_process) {
      ++unit_rows;
      CHECK(s.cycles > w.cycles);
      CHECK(s.mac_cycles > w.mac_cycles);
      CHECK(s.dram.bytes_read == w.dram.bytes_read);
      CHECK(s.dram.bytes_written == w.dram.bytes_written);
    } else {
      CHECK(s.cycles == w.cycles);
    }
    if (n.op == pcnn::Int8Op::max_pool) {
      // 6 output rows x ceil(6 columns x 8 channels / lanes) x 4 taps.
      CHECK(w.mac_cycles == 6 * 2 * 4);
      CHECK(s.mac_cycles == 6 * 12 * 4);
      ++pools;
    }
  }
  CHECK(pools == 1);
  CHECK(unit_rows >= 3);  // max_pool, average_pool, add
  CHECK(narrow_r.total.cycles > wide_r.total.cycles);
}

TEST_CASE("pcnn-sim run --network writes the golden executor's tensors and refuses bad input",
          "[network_run]") {
  TempDir tmp;
  pcnn::ModelBuilder b("tiny", {1, 1, 6, 5}, 4);
  b.gemm(b.flatten(b.relu(b.conv(b.relu(b.conv(b.input(), 4)), 3))), 3);
  b.write(tmp / "m.onnx");
  REQUIRE(pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + tmp / "m.onnx -o " +
                                 tmp / "img --calib-samples 4")
              .status == 0);
  std::ofstream(tmp / "x.pgm", std::ios::binary) << "P5\n5 6\n255\n" << std::string(30, '\x50');
  auto sim = [](const std::string& args) {
    return pcnn_test::run_command(pcnn_test::binary("pcnn-sim") + " " + args);
  };
  const pcnn_test::Run golden = sim("golden " + tmp / "img --input " + tmp / "x.pgm --output " +
                                    tmp / "g.npy --dump-layers " + tmp / "glayers");
  REQUIRE(golden.status == 0);
  const pcnn_test::Run r =
      sim("run " + tmp / "img --network --input " + tmp / "x.pgm --act-mode skip --output " +
          tmp / "y.npy --dump-layers " + tmp / "layers --json " + tmp / "r.json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("outside it") != std::string::npos);
  CHECK(r.out.find("dense network:") != std::string::npos);
  CHECK(r.out.find("energy per inference:") != std::string::npos);
  CHECK(r.out.find("class ") != std::string::npos);
  CHECK(pcnn_test::slurp(tmp / "y.npy") == pcnn_test::slurp(tmp / "g.npy"));
  CHECK(pcnn_test::slurp(tmp / "y.npy.json") == pcnn_test::slurp(tmp / "g.npy.json"));
  const std::vector<std::string> files = pcnn_test::listing(tmp / "layers");
  REQUIRE(files == pcnn_test::listing(tmp / "glayers"));
  for (const std::string& f : files)
    CHECK(pcnn_test::slurp(tmp / "layers/" + f) == pcnn_test::slurp(tmp / "glayers/" + f));
  const nlohmann::json j = nlohmann::json::parse(pcnn_test::slurp(tmp / "r.json"));
  CHECK(j.at("steps").size() == 4);  // the Relus are folded into the convs
  CHECK(j.at("total").at("stats").at("energy").is_object());

  // A wrong input shape names the file; nothing is written.
  std::ofstream(tmp / "big.pgm", std::ios::binary) << "P5\n6 6\n255\n" << std::string(36, 'x');
  const pcnn_test::Run shape =
      sim("run " + tmp / "img --network --input " + tmp / "big.pgm --output " + tmp / "z.npy");
  CHECK(shape.status != 0);
  CHECK(shape.out.find("big.pgm") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp / "z.npy"));
  // A --dump-layers folder that holds something is never written into.
  CHECK(sim("run " + tmp / "img --network --input " + tmp / "x.pgm --dump-layers " + tmp / "layers")
            .status != 0);
  CHECK(sim("run " + tmp / "img --network").status != 0);  // --input is required
  // An operator outside the int8 set is refused up front with its node and name.
  std::string text = pcnn_test::slurp(tmp / "img/network.json");
  text.replace(text.find("\"reshape\""), 9, "\"lrn!\"");
  pcnn_test::write_text(tmp / "img/network.json", text);
  const pcnn_test::Run op =
      sim("run " + tmp / "img --network --input " + tmp / "x.pgm --output " + tmp / "z.npy");
  CHECK(op.status != 0);
  CHECK(op.out.find("operator 'lrn!' is outside the int8 operator set") != std::string::npos);
  CHECK(op.out.find("node '") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp / "z.npy"));
}

namespace {

// VGG-16-CIFAR and ResNet-18-CIFAR (pcnn-zoo, pruned at n = 4) on a random
// input, whole on the accelerator in one mode; every tensor against the golden
// executor. One test case per mode keeps each process short.
void check_cifar_models(pcnn::ActMode mode) {
  TempDir tmp;
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  for (const std::string name : {"vgg16-cifar", "resnet18-cifar"}) {
    INFO(name);
    pcnn::build_zoo_model(name, 1).write(tmp / (name + ".onnx"));
    const pcnn_test::Pruned p = pcnn_test::prune(tmp / (name + ".onnx"), 2);
    const pcnn::GoldenNetwork g(p.pruned.images, p.net);
    std::mt19937_64 rng(seed);
    const std::vector<std::int8_t> x = random_input(g, rng);
    std::vector<std::vector<std::int8_t>> golden(p.net.tensors.size());
    golden[p.net.input] = x;
    g.run(x, [&](const pcnn::NetNode& n, const pcnn::NetTensor&,
                 const std::vector<std::int8_t>& v) { golden[n.output] = v; });
    pcnn::NetworkRunOptions opt;
    opt.sim.act_mode = mode;
    opt.with_dense = false;
    const pcnn::NetworkRunResult r =
        pcnn::simulate_network_in_child(p.pruned.images, p.net, x, pcnn::ArchConfig{}, opt);
    REQUIRE(r.tensors.size() == golden.size());
    for (std::size_t t = 0; t < golden.size(); ++t) {
      INFO("tensor " << p.net.tensors[t].name);
      CHECK(r.tensors[t] == golden[t]);
    }
    std::uint64_t outside = 0;
    for (const pcnn::NetworkStepResult& s : r.steps) {
      if (s.unit == pcnn::NetUnit::post_process) {
        CHECK(s.stats.cycles > 0);
        CHECK(s.stats.dram.bytes_read > 0);
        CHECK(s.stats.mac_cycles + s.stats.stalls.total() == s.stats.cycles);
      }
      if (s.unit != pcnn::NetUnit::pe_group) outside += s.stats.cycles;
    }
    CHECK(outside > 0);
    CHECK(r.pe_group_cycles + outside == r.total.cycles);
  }
}

}  // namespace

TEST_CASE("VGG-16-CIFAR and ResNet-18-CIFAR run whole bit-exact in mode off", "[network_run]") {
  check_cifar_models(pcnn::ActMode::off);
}

TEST_CASE("VGG-16-CIFAR and ResNet-18-CIFAR run whole bit-exact in mode gate", "[network_run]") {
  check_cifar_models(pcnn::ActMode::gate);
}

TEST_CASE("VGG-16-CIFAR and ResNet-18-CIFAR run whole bit-exact in mode skip", "[network_run]") {
  check_cifar_models(pcnn::ActMode::skip);
}

TEST_CASE("random small networks with every operator run whole bit-exact in every mode",
          "[network_run]") {
  TempDir tmp;
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937_64 rng(seed);
  std::vector<int> seen(14, 0);
  for (int trial = 0; trial < 8; ++trial) {
    INFO("trial " << trial);
    pcnn::ModelBuilder b = pcnn_test::random_network(rng, seed + trial);
    b.write(tmp / "r.onnx");
    const pcnn_test::Pruned p = pcnn_test::prune(tmp / "r.onnx", 8);
    for (const pcnn::NetNode& n : p.net.nodes) ++seen[static_cast<int>(n.op)];
    const pcnn::GoldenNetwork g(p.pruned.images, p.net);
    check_bit_exact(p, random_input(g, rng), true);
  }
  // Every operator the pruner emits for these graphs ran (rescale bridges
  // and global max pooling do not occur in them; the unit's own tests cover them).
  for (const pcnn::Int8Op op :
       {pcnn::Int8Op::conv, pcnn::Int8Op::gemm, pcnn::Int8Op::relu, pcnn::Int8Op::clip,
        pcnn::Int8Op::max_pool, pcnn::Int8Op::average_pool, pcnn::Int8Op::global_average_pool,
        pcnn::Int8Op::add, pcnn::Int8Op::concat, pcnn::Int8Op::reshape,
        pcnn::Int8Op::resize_nearest, pcnn::Int8Op::depth_to_space}) {
    INFO(pcnn::to_string(op));
    CHECK(seen[static_cast<int>(op)] > 0);
  }
}

TEST_CASE("layers that need lowering run whole in a network bit-exact in every mode",
          "[network_run]") {
  TempDir tmp;
  pcnn::ModelBuilder b("lowered", {1, 4, 10, 9}, 6);
  pcnn::ConvOptions grouped;
  grouped.group = 2;
  grouped.bias = true;
  pcnn::ConvOptions depthwise;
  depthwise.group = 6;
  depthwise.stride = 2;
  pcnn::ConvOptions large;
  large.kernel = 5;
  const std::string a = b.relu(b.conv(b.input(), 6, grouped));  // two passes
  const std::string d = b.relu(b.conv(a, 6, depthwise));        // six passes, stride 2
  const std::string c = b.relu(b.conv(d, 5, large));            // 25 positions: sub-kernels
  b.gemm(b.flatten(b.global_average_pool(b.add(c, b.conv(d, 5)))), 4);
  b.write(tmp / "m.onnx");
  const pcnn_test::Pruned p = pcnn_test::prune(tmp / "m.onnx", 4);
  std::mt19937_64 rng(test_seed());
  INFO("seed " << test_seed());
  const pcnn::GoldenNetwork g(p.pruned.images, p.net);
  const pcnn::NetworkRunResult r = check_bit_exact(p, random_input(g, rng), true);
  // Two grouped convs (one pass per group) and a 5x5 conv (sub-kernels over shifted copies).
  std::vector<int> passes;
  for (const pcnn::NetworkStepResult& s : r.steps)
    if (!s.stats.lowering.empty()) passes.push_back(s.stats.passes);
  CHECK(passes == std::vector<int>{2, 6, 1});
}

TEST_CASE("an operation the post-processing unit cannot hold is refused up front with its node",
          "[network_run]") {
  TempDir tmp;
  pcnn::ModelBuilder b("wide", {1, 1, 64, 200}, 2);
  pcnn::ConvOptions one;
  one.kernel = 1;
  b.max_pool(b.conv(b.input(), 1, one), 64, 1, 0, "wide_pool");  // 64 rows of 200 > 8 KiB
  b.write(tmp / "m.onnx");
  const pcnn_test::Pruned p = pcnn_test::prune(tmp / "m.onnx", 1);
  const pcnn::NetworkRunOptions opt;
  const pcnn::ArchConfig arch;
  CHECK_THROWS_WITH(
      pcnn::simulate_network_in_child(p.pruned.images, p.net, std::vector<std::int8_t>(64 * 200, 1),
                                      arch, opt),
      Catch::Contains("node 'wide_pool' (max_pool)") && Catch::Contains("line buffer"));
  // A wrong input size is refused with the network input named.
  CHECK_THROWS_WITH(pcnn::simulate_network_in_child(p.pruned.images, p.net,
                                                    std::vector<std::int8_t>(7), arch, opt),
                    Catch::Contains("network input"));
}
