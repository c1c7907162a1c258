// The dense-twin cache: a twin taken from the cache equals one simulated
// anew (for another layer of the same shape and input, too), every component
// of the key misses when changed, a corrupt entry on disk is recomputed, and
// pcnn-sim's results are the same with and without the cache.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/dense_twin_cache.hpp"
#include "pcnn/sim/simulate.hpp"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pcnn_dense_cache_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pcnn::ConvGeometry random_geometry(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  pcnn::ConvGeometry g;
  g.group = pick(1, 4) == 4 ? 2 : 1;
  g.in_channels = g.group * pick(1, 6);
  g.out_channels = g.group * pick(1, 9);
  g.in_h = pick(4, 11);
  g.in_w = pick(4, 11);
  g.stride_h = pick(1, 2);
  g.stride_w = pick(1, 2);
  g.dilation_h = pick(1, 4) == 4 ? 2 : 1;
  g.pad_top = pick(0, 2);
  g.pad_left = pick(0, 2);
  g.pad_bottom = pick(0, 1);
  g.pad_right = pick(0, 1);
  if (g.out_h() <= 0 || g.out_w() <= 0) g.dilation_h = g.stride_h = 1;
  return g;
}

// A random pattern-pruned layer with inputs of the given density, -128 included.
pcnn::LayerJob random_job(std::mt19937_64& rng, const pcnn::ConvGeometry& g, int n,
                          const std::string& name) {
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, n, n == 9 ? 1 : 6, false, rng, name);
  job.input = pcnn::random_activations(g.input_elements(), 0.6, false, rng);
  if (!job.input.empty()) job.input[0] = -128;
  return job;
}

pcnn::LayerJob twin(const pcnn::LayerJob& j) {
  pcnn::LayerJob d;
  d.layer = pcnn::dense_equivalent(j.layer);
  d.input = j.input;
  return d;
}

}  // namespace

TEST_CASE("dense_effectual_macs matches the simulated dense twin in every mode", "[dense-cache]") {
  const std::uint64_t seed = Catch::rngSeed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::gate, pcnn::ActMode::skip}) {
    std::vector<pcnn::LayerJob> jobs;
    for (int i = 0; i < 6; ++i)
      jobs.push_back(twin(random_job(rng, random_geometry(rng), 1 + static_cast<int>(rng() % 9),
                                     "c" + std::to_string(i))));
    // Kernels the host lowers (5x5: K > 16) and 1x1 ones.
    for (int k : {5, 1}) {
      pcnn::ConvGeometry g = random_geometry(rng);
      g.kernel_h = g.kernel_w = k;
      g.in_h = g.in_w = 9;
      g.dilation_h = g.dilation_w = 1;
      pcnn::LayerJob j;
      j.layer = pcnn::make_dense_layer_with_geometry(g, false, rng, "k" + std::to_string(k));
      j.input = pcnn::random_activations(g.input_elements(), 0.5, false, rng);
      jobs.push_back(j);
    }
    pcnn::SimOptions opt;
    opt.act_mode = mode;
    const auto results = pcnn::simulate_in_child(jobs, pcnn::ArchConfig{}, opt);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      INFO("mode " << pcnn::to_string(mode) << ", layer " << i);
      CHECK(pcnn::dense_effectual_macs(jobs[i].layer, jobs[i].input) ==
            results[i].stats.macs_effectual);
    }
  }
}

TEST_CASE("a cached dense twin equals one simulated anew, for other weights too", "[dense-cache]") {
  std::mt19937_64 rng(11);
  pcnn::ConvGeometry g;
  g.in_channels = 6;
  g.out_channels = 10;
  g.in_h = g.in_w = 9;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  for (pcnn::ActMode mode : {pcnn::ActMode::off, pcnn::ActMode::skip}) {
    INFO("mode " << pcnn::to_string(mode));
    // Two layers of one shape (n = 4 and n = 2, other weights), one input.
    pcnn::LayerJob a = random_job(rng, g, 4, "a");
    pcnn::LayerJob b = random_job(rng, g, 2, "b");
    b.input = a.input;
    pcnn::SimOptions opt;
    opt.act_mode = mode;
    const pcnn::ArchConfig arch;
    const auto sim = pcnn::simulate_in_child({twin(a), twin(b)}, arch, opt);
    const std::string key = pcnn::DenseTwinCache::key(a.layer, a.input, arch, opt);
    REQUIRE(pcnn::DenseTwinCache::key(b.layer, b.input, arch, opt) == key);

    TempDir tmp;
    {
      pcnn::DenseTwinCache cache(tmp.path + "/cache");
      CHECK_FALSE(cache.find(key, a.layer, a.input));
      cache.store(key, sim[0].stats);
    }
    pcnn::DenseTwinCache again(tmp.path + "/cache");  // a later process: from the disk
    const auto got_a = again.find(key, a.layer, a.input);
    const auto got_b = again.find(key, b.layer, b.input);
    REQUIRE(got_a);
    REQUIRE(got_b);
    CHECK(pcnn::stats_to_json(*got_a) == pcnn::stats_to_json(sim[0].stats));
    CHECK(pcnn::stats_to_json(*got_b) == pcnn::stats_to_json(sim[1].stats));
    CHECK(sim[0].stats.macs_effectual != sim[1].stats.macs_effectual);  // the weights matter
    CHECK(again.hits() == 2);
  }
}

TEST_CASE("a change of any dense-twin key component misses", "[dense-cache]") {
  std::mt19937_64 rng(12);
  pcnn::ConvGeometry g;
  g.in_channels = 4;
  g.out_channels = 5;
  g.in_h = g.in_w = 7;
  const pcnn::LayerJob base = random_job(rng, g, 4, "k");
  const pcnn::ArchConfig arch;
  const pcnn::SimOptions opt;
  const std::string key = pcnn::DenseTwinCache::key(base.layer, base.input, arch, opt);
  auto key_of = [&](const pcnn::SpmLayer& l, const std::vector<std::int8_t>& in,
                    const pcnn::ArchConfig& a,
                    const pcnn::SimOptions& o) { return pcnn::DenseTwinCache::key(l, in, a, o); };
  // Weights, scales and names are not part of it.
  pcnn::SpmLayer reweighted = base.layer;
  for (auto& v : reweighted.nonzeros) v = static_cast<std::int8_t>(v / 2 + 1);
  reweighted.name = "other";
  reweighted.output_scale *= 2;
  CHECK(key_of(reweighted, base.input, arch, opt) == key);

  for (int f = 0; f < 15; ++f) {
    pcnn::SpmLayer l = base.layer;
    int* fields[] = {&l.geom.in_channels, &l.geom.out_channels, &l.geom.in_h,
                     &l.geom.in_w,        &l.geom.kernel_h,     &l.geom.kernel_w,
                     &l.geom.stride_h,    &l.geom.stride_w,     &l.geom.pad_top,
                     &l.geom.pad_left,    &l.geom.pad_bottom,   &l.geom.pad_right,
                     &l.geom.dilation_h,  &l.geom.dilation_w,   &l.geom.group};
    *fields[f] += 1;
    INFO("geometry field " << f);
    CHECK(key_of(l, base.input, arch, opt) != key);
  }
  pcnn::SpmLayer words = base.layer;
  words.kernel_register_words = 30;
  CHECK(key_of(words, base.input, arch, opt) != key);
  pcnn::SpmLayer relu = base.layer;
  relu.relu = !relu.relu;
  CHECK(key_of(relu, base.input, arch, opt) != key);

  std::vector<std::int8_t> input = base.input;
  input.back() = static_cast<std::int8_t>(input.back() + 1);
  CHECK(key_of(base.layer, input, arch, opt) != key);

  pcnn::ArchConfig pes = arch;
  pes.pe_count = 32;
  CHECK(key_of(base.layer, base.input, pes, opt) != key);
  pcnn::ArchConfig dram = arch;
  dram.dram.bandwidth_gbps = 20;
  CHECK(key_of(base.layer, base.input, dram, opt) != key);
  pcnn::ArchConfig energy = arch;
  energy.dram.energy_pj_per_byte = 10;
  CHECK(key_of(base.layer, base.input, energy, opt) != key);

  pcnn::SimOptions skip = opt;
  skip.act_mode = pcnn::ActMode::skip;
  CHECK(key_of(base.layer, base.input, arch, skip) != key);
  pcnn::SimOptions lt = opt;
  lt.timing = pcnn::Timing::lt;
  CHECK(key_of(base.layer, base.input, arch, lt) != key);
  pcnn::SimOptions every_edge = opt;
  every_edge.skip_idle_edges = false;
  CHECK(key_of(base.layer, base.input, arch, every_edge) != key);
}

TEST_CASE("a corrupt dense-twin cache entry is ignored and recomputed", "[dense-cache]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/cache";
  std::mt19937_64 rng(13);
  pcnn::ConvGeometry g;
  g.in_channels = g.out_channels = 3;
  g.in_h = g.in_w = 5;
  const pcnn::LayerJob job = random_job(rng, g, 3, "x");
  const pcnn::ArchConfig arch;
  const pcnn::SimOptions opt;
  const std::string key = pcnn::DenseTwinCache::key(job.layer, job.input, arch, opt);
  pcnn::LayerStats stats;
  stats.cycles = 1234;
  stats.dense_macs = 99;
  pcnn::DenseTwinCache(dir).store(key, stats);
  const std::string entry = dir + "/" + key + ".json";
  REQUIRE(fs::is_regular_file(entry));
  REQUIRE(pcnn::DenseTwinCache(dir).find(key, job.layer, job.input)->cycles == 1234);

  const std::string good = slurp(entry);
  auto corrupt_with = [&](const std::string& text) {
    std::ofstream(entry, std::ios::trunc) << text;
    return pcnn::DenseTwinCache(dir).find(key, job.layer, job.input);
  };
  CHECK_FALSE(corrupt_with(good.substr(0, good.size() / 2)));  // cut short
  CHECK_FALSE(corrupt_with(""));
  CHECK_FALSE(corrupt_with("[1, 2]"));
  std::string altered = good;
  altered.replace(altered.find("1234"), 4, "1235");  // checksum no longer matches
  CHECK_FALSE(corrupt_with(altered));
  std::string other_key = good;
  other_key.replace(other_key.find(key), 4, "ffff");
  CHECK_FALSE(corrupt_with(other_key));

  // Recomputed and stored again: the entry is whole once more.
  pcnn::DenseTwinCache(dir).store(key, stats);
  CHECK(pcnn::DenseTwinCache(dir).find(key, job.layer, job.input)->cycles == 1234);
  // Only the entry: no temporary left behind.
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 1);
}

TEST_CASE("an unwritable dense-twin cache folder only loses the reuse", "[dense-cache]") {
  TempDir tmp;
  const std::string file = tmp.path + "/a-file";
  std::ofstream(file) << "x";
  pcnn::DenseTwinCache cache(file + "/cache");  // under a regular file: cannot be made
  pcnn::LayerStats stats;
  stats.cycles = 7;
  std::mt19937_64 rng(15);
  pcnn::ConvGeometry g;
  g.in_channels = g.out_channels = 2;
  g.in_h = g.in_w = 4;
  const pcnn::LayerJob job = random_job(rng, g, 3, "y");
  CHECK_NOTHROW(cache.store("k", stats));
  CHECK(cache.find("k", job.layer, job.input)->cycles == 7);  // in memory
  CHECK(slurp(file) == "x");
}

TEST_CASE("pcnn-sim gives the same results with dense twins from the cache", "[dense-cache]") {
  TempDir tmp;
  std::mt19937_64 rng(14);
  pcnn::ModelImages images;
  images.model_name = "twins";
  images.source_file = "twins.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 4;
  g.out_channels = 6;
  g.in_h = g.in_w = 8;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "c1"));
  g.in_channels = 6;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 2, 4, true, rng, "c2"));
  images.layers[1].index = 1;
  pcnn::write_model_images(images, tmp.path + "/images");
  const std::string sim = std::string(PCNN_BINARY_DIR) + "/pcnn-sim run " + tmp.path +
                          "/images --act-mode skip --dense-cache ";
  const std::string cache = tmp.path + "/cache";
  auto run = [&](const std::string& cache_arg, const std::string& json) {
    const std::string cmd = sim + cache_arg + " --json " + tmp.path + "/" + json + " > " +
                            tmp.path + "/" + json + ".txt";
    REQUIRE(std::system(cmd.c_str()) == 0);
    nlohmann::json j = nlohmann::json::parse(slurp(tmp.path + "/" + json));
    return j;
  };
  const nlohmann::json plain = run("off", "plain.json");
  CHECK_FALSE(fs::exists(cache));
  const nlohmann::json first = run(cache, "first.json");
  CHECK(std::distance(fs::directory_iterator(cache), fs::directory_iterator{}) == 2);
  const nlohmann::json second = run(cache, "second.json");
  CHECK(slurp(tmp.path + "/second.json.txt").find("2 dense twins reused") != std::string::npos);
  for (const nlohmann::json* j : {&first, &second}) {
    CHECK((*j)["layers"] == plain["layers"]);
    CHECK((*j)["total"] == plain["total"]);
  }
}
