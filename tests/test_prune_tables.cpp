// The paper's Tables I and IV on a real pruned VGG-16-CIFAR from the zoo.
// Expected values are the paper's; tolerances are the spec's (3% and 2%).
// Each configuration is also checked against the closed form of the paper's
// convention, 9 * 32 / (32 n + ceil(log2 V)) bits per kernel.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "pcnn/onnx/model_zoo.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "pcnn/prune/report.hpp"
#include "prune_test_support.hpp"

using namespace pcnn;
using pcnn_test::TempDir;

namespace {

OnnxModel load_vgg16_cifar(const TempDir& tmp) {
  build_zoo_model("vgg16-cifar", 1).write(tmp / "vgg16-cifar.onnx");
  return OnnxModel::load(tmp / "vgg16-cifar.onnx");
}

StorageCounts totals(const PrunedModel& pm) {
  StorageCounts t;
  for (const SpmLayer& l : pm.images.layers) t += layer_storage(l);
  return t;
}

PrunedModel prune(const OnnxModel& model, int n, int V, const std::string& layers = "") {
  PruneOptions opt;
  opt.n = n;
  opt.patterns = V;
  opt.layers_file = layers;
  opt.calib_samples = 0;  // compression does not depend on activation scales
  return prune_model(model, opt);
}

double closed_form(int n, int V) {
  return 9.0 * 32.0 / (32.0 * n + std::ceil(std::log2(static_cast<double>(V))));
}

// Checks that the pruned model has exactly n non-zeros in every kernel, all
// at positions of its layer's pattern table, and that Fig. 2 data add up.
void check_structure(const PrunedModel& pm, int n, int V) {
  for (std::size_t l = 0; l < pm.images.layers.size(); ++l) {
    const SpmLayer& layer = pm.images.layers[l];
    REQUIRE(layer.pattern_pruned);
    CHECK(layer.n == n);
    CHECK(layer.num_patterns() == V);
    std::int64_t assigned = 0, nearest = 0;
    for (std::int64_t a : pm.stats[l].assigned) assigned += a;
    for (const PatternCount& c : pm.stats[l].nearest) nearest += c.count;
    CHECK(assigned == layer.geom.kernel_count());
    CHECK(nearest == layer.geom.kernel_count());
    const std::vector<float>& w = pm.pruned_weights[l];
    for (std::int64_t k = 0; k < layer.geom.kernel_count(); k += 97) {
      int nz = 0;
      for (int p = 0; p < 9; ++p) nz += w[static_cast<std::size_t>(k * 9 + p)] != 0.0f;
      CHECK(nz == n);  // He-initialised weights are never exactly 0
    }
  }
}

}  // namespace

TEST_CASE("VGG-16-CIFAR has the paper's conv parameters and MACs", "[prune]") {
  TempDir tmp;
  const OnnxModel model = load_vgg16_cifar(tmp);
  const PrunedModel pm = prune(model, 4, 32);
  const StorageCounts t = totals(pm);
  CHECK(pm.images.layers.size() == 13);
  CHECK(std::round(t.dense_weights / 1e5) == 147);  // 1.47e7
  CHECK(std::round(t.macs_dense / 1e6) == 313);     // 3.13e8
  CHECK(t.kept_weights * 9 == t.dense_weights * 4);
  CHECK(t.macs_pruned * 9 == t.macs_dense * 4);
}

TEST_CASE("Table I: compression for n = 4, 3, 2, 1 and the various setting", "[prune]") {
  TempDir tmp;
  const OnnxModel model = load_vgg16_cifar(tmp);
  struct Row {
    int n, V;
    double weight, weight_idx;
  };
  for (const Row& row :
       {Row{4, 32, 2.3, 2.2}, Row{3, 32, 3.0, 2.9}, Row{2, 32, 4.5, 4.1}, Row{1, 8, 9.0, 8.4}}) {
    INFO("n = " << row.n << ", V = " << row.V);
    const PrunedModel pm = prune(model, row.n, row.V);
    check_structure(pm, row.n, row.V);
    const StorageCounts t = totals(pm);
    CHECK(t.compression_weight_fp32() == Approx(9.0 / row.n).epsilon(1e-12));
    CHECK(t.compression_weight_idx_fp32() == Approx(closed_form(row.n, row.V)).epsilon(1e-12));
    CHECK(t.compression_weight_fp32() == Approx(row.weight).epsilon(0.03));
    CHECK(t.compression_weight_idx_fp32() == Approx(row.weight_idx).epsilon(0.03));
  }
  // Various setting 2-1-1-1-1: VGG block 1 (conv 0, 1) at n = 2 with 32
  // patterns, every later layer at n = 1 with 8.
  std::ofstream(tmp / "various.json")
      << R"({"layers": [{"index": 0, "n": 2, "patterns": 32}, {"index": 1, "n": 2, "patterns": 32}]})";
  const PrunedModel pm = prune(model, 1, 8, tmp / "various.json");
  CHECK(pm.images.layers[0].n == 2);
  CHECK(pm.images.layers[1].num_patterns() == 32);
  CHECK(pm.images.layers[2].n == 1);
  CHECK(pm.images.layers[12].num_patterns() == 8);
  const StorageCounts t = totals(pm);
  CHECK(t.compression_weight_fp32() == Approx(9.0).epsilon(0.03));
  CHECK(t.compression_weight_idx_fp32() == Approx(8.4).epsilon(0.03));
}

namespace {

struct TableIvRow {
  int n, V;
  double weight_idx;
};

void check_table_iv(const std::vector<TableIvRow>& rows) {
  TempDir tmp;
  const OnnxModel model = load_vgg16_cifar(tmp);
  for (const TableIvRow& row : rows) {
    INFO("n = " << row.n << ", V = " << row.V);
    const int V = row.V == binomial(9, row.n) ? kPatternsFull : row.V;
    const PrunedModel pm = prune(model, row.n, V);
    check_structure(pm, row.n, row.V);
    const StorageCounts t = totals(pm);
    CHECK(t.compression_weight_idx_fp32() == Approx(closed_form(row.n, row.V)).epsilon(1e-12));
    CHECK(t.compression_weight_idx_fp32() == Approx(row.weight_idx).epsilon(0.02));
  }
}

}  // namespace

TEST_CASE("Table IV, n = 4: compression (weight+idx) against the pattern count", "[prune]") {
  check_table_iv({{4, 126, 2.14}, {4, 32, 2.18}, {4, 16, 2.20}, {4, 8, 2.21}, {4, 4, 2.23}});
}

TEST_CASE("Table IV, n = 2: compression (weight+idx) against the pattern count", "[prune]") {
  check_table_iv({{2, 36, 4.08}, {2, 32, 4.13}, {2, 16, 4.19}, {2, 8, 4.26}, {2, 4, 4.32}});
}

TEST_CASE("report: projection error, CSC cost and index overhead on VGG-16-CIFAR", "[prune]") {
  TempDir tmp;
  const OnnxModel model = load_vgg16_cifar(tmp);
  PruneOptions opt;
  opt.n = 4;
  opt.patterns = 16;
  opt.calib_samples = 0;
  const PrunedModel pm = prune_model(model, opt);
  const nlohmann::json r = make_report(pm, opt);
  const nlohmann::json& t = r["totals"];
  // EIE-style CSC for n = 4: gaps never exceed 15 zeros, so one 4-bit index
  // per kept weight: 288 / (4 * (32 + 4)) = 2.0 (the paper's "2.0x").
  CHECK(t["csc_padding_entries"] == 0);
  CHECK(t["compression_csc_fp32"].get<double>() == Approx(2.0));
  CHECK(t["index_overhead_int8"].get<double>() == Approx(4.0 / 32.0));
  CHECK(r["paper_onchip_index_overhead"]["ratio"].get<double>() == Approx(0.03125));
  // int8 storage: 15 kernels of 4 bytes fill a 60-byte row exactly; conv0 has
  // 192 kernels (13 rows, the last holding 12), so padding is tiny.
  CHECK(t["compression_weight_idx_int8"].get<double>() == Approx(72.0 / 36.0));
  CHECK(t["compression_stored_int8"].get<double>() == Approx(72.0 / 36.0).epsilon(0.001));
  // Projection error from the stored stats equals a direct recomputation on
  // the folded weights of one layer.
  const FloatConv& c = model.convs()[3];
  double all = 0, removed = 0;
  const int Cg = c.geom.in_channels_per_group();
  for (std::size_t i = 0; i < c.weights.size(); ++i) {
    const double s = c.has_batchnorm ? c.bn_scale[i / 9 / static_cast<std::size_t>(Cg)] : 1.0;
    const double w = c.weights[i] * s;
    all += w * w;
    if (pm.pruned_weights[3][i] == 0.0f) removed += w * w;
  }
  CHECK(r["layers"][3]["projection_error"].get<double>() ==
        Approx(std::sqrt(removed / all)).epsilon(1e-6));
  // int8 weights: dense_weights() * scale equals the folded projected weight
  // within half a quantisation step, and removed positions are exactly 0.
  {
    const SpmLayer& layer = pm.images.layers[3];
    const std::vector<std::int8_t> q = layer.dense_weights();
    REQUIRE(q.size() == c.weights.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
      const std::size_t m = i / 9 / static_cast<std::size_t>(Cg);
      const double folded = pm.pruned_weights[3][i] * (c.has_batchnorm ? c.bn_scale[m] : 1.0f);
      if (pm.pruned_weights[3][i] == 0.0f) REQUIRE(q[i] == 0);
      REQUIRE(std::fabs(q[i] * layer.weight_scale[m] - folded) <=
              0.5 * layer.weight_scale[m] * (1 + 1e-5));
    }
  }
  // 16 patterns can do no better than every kernel's own top-4 (the full set).
  double removed_top4 = 0;
  for (std::size_t k = 0; k < c.weights.size() / 9; ++k) {
    std::vector<double> e(9);
    const double s = c.has_batchnorm ? c.bn_scale[k / static_cast<std::size_t>(Cg)] : 1.0;
    for (int p = 0; p < 9; ++p) e[p] = std::pow(c.weights[k * 9 + p] * s, 2);
    std::sort(e.begin(), e.end());
    for (int p = 0; p < 5; ++p) removed_top4 += e[p];
  }
  const double err = r["layers"][3]["projection_error"].get<double>();
  CHECK(err >= std::sqrt(removed_top4 / all) - 1e-9);
  CHECK(err < 1.0);
}
