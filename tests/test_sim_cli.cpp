// pcnn-sim run as a program: a good run (table, JSON with the resolved
// architecture and image identity, a VCD that GTKWave's vcd2fst accepts) and
// every kind of bad input (one line on stderr, non-zero exit, nothing written).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/tensor_file.hpp"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pcnn_sim_cli_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct RunResult {
  int status;
  std::string out, err;
};

RunResult run_sim(const TempDir& tmp, const std::string& args) {
  const std::string out = tmp.path + "/stdout.txt", err = tmp.path + "/stderr.txt";
  const std::string cmd = std::string(PCNN_BINARY_DIR) + "/pcnn-sim " + args + " > '" + out +
                          "' 2> '" + err + "'";
  const int rc = std::system(cmd.c_str());
  RunResult r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// Two small layers: a pattern-pruned 3x3 layer and its successor.
std::string make_images(const TempDir& tmp) {
  std::mt19937_64 rng(5);
  pcnn::ModelImages images;
  images.model_name = "tiny";
  images.source_file = "tiny.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 5;
  g.out_channels = 7;
  g.in_h = g.in_w = 9;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "convA"));
  g.in_channels = 7;
  g.out_channels = 66;
  g.stride_h = g.stride_w = 2;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 2, 4, false, rng, "convB"));
  images.layers[1].index = 1;
  const std::string dir = tmp.path + "/images";
  pcnn::write_model_images(images, dir);
  return dir;
}

void write_text(const std::string& p, const std::string& text) {
  std::ofstream(p) << text;
}

// A failing run: one line on stderr starting with "pcnn-sim: " and naming
// `what`, a non-zero exit, and no result or trace file.
void expect_failure(const TempDir& tmp, const std::string& args, const std::string& what) {
  const std::string json = tmp.path + "/result.json";
  const std::string vcd = tmp.path + "/trace.vcd";
  const RunResult r = run_sim(tmp, args + " --json '" + json + "'");
  INFO("args: " << args << "\nstderr: " << r.err);
  CHECK(r.status != 0);
  REQUIRE(!r.err.empty());
  CHECK(r.err.rfind("pcnn-sim: ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
  CHECK(r.err.find(what) != std::string::npos);
  CHECK(!exists(json));
  CHECK(!exists(json + ".tmp"));
  CHECK(!exists(vcd));
  CHECK(!exists(vcd + ".tmp"));
  CHECK(!exists(tmp.path + "/trace.gtkw"));
}

}  // namespace

TEST_CASE("pcnn-sim run: table, JSON and a VCD that vcd2fst accepts", "[sim][cli]") {
  TempDir tmp;
  const std::string images = make_images(tmp);
  const std::string json = tmp.path + "/r.json", vcd = tmp.path + "/t.vcd";
  const RunResult r = run_sim(tmp, "run '" + images + "' --all --act-mode skip --json '" + json +
                                       "' --vcd '" + vcd + "' --vcd-window 10:400 --vcd-pe 3");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("convA") != std::string::npos);
  CHECK(r.out.find("total") != std::string::npos);
  for (const pcnn::StallReasonField& f : pcnn::kStallReasons) {  // column and legend
    CHECK(r.out.find(std::string(" ") + f.short_name) != std::string::npos);
    CHECK(r.out.find(std::string(f.short_name) + " " + f.label) != std::string::npos);
  }
  const nlohmann::json j = nlohmann::json::parse(slurp(json));
  CHECK(j["architecture"]["pe_count"] == 64);
  CHECK(j["architecture"]["weight_sram"]["size_bytes"] == 131072);
  CHECK(j["images"]["identity"].get<std::string>().size() > 4);
  CHECK(j["act_mode"] == "skip");
  REQUIRE(j["layers"].size() == 2);
  CHECK(j["layers"][1]["stats"]["tiling"]["tiles"] == 2);  // 66 output channels
  CHECK(j["layers"][0]["speedup_vs_dense"].get<double>() > 1.0);
  const std::string text = slurp(vcd);
  CHECK(text.find("$scope module pe_group") != std::string::npos);
  CHECK(text.find("sparsity_mask") != std::string::npos);
  CHECK(text.find("lane0_weight") != std::string::npos);
  CHECK(text.find("pe3") != std::string::npos);
  const std::string fst = tmp.path + "/t.fst";
  CHECK(std::system(("vcd2fst '" + vcd + "' '" + fst + "' > /dev/null 2>&1").c_str()) == 0);
  CHECK(exists(fst));
  CHECK(exists(tmp.path + "/t.gtkw"));  // the GTKWave save file and state names beside it
  CHECK(exists(tmp.path + "/t.controller_state.filter"));

  // An input tensor file of the right shape.
  pcnn::Int8Tensor t;
  t.c = 5;
  t.h = t.w = 9;
  std::mt19937_64 rng(2);
  t.data = pcnn::random_activations(5 * 81, 0.7, false, rng);
  pcnn::write_tensor_file(tmp.path + "/in.pcnt", t);
  const RunResult r2 = run_sim(tmp, "run '" + images + "' --layer convA --input '" + tmp.path + "/in.pcnt'");
  INFO(r2.err);
  CHECK(r2.status == 0);
  CHECK(r2.out.find("convB") == std::string::npos);
}

TEST_CASE("pcnn-sim run: a 7x7 stem and a grouped layer run lowered", "[sim][cli]") {
  TempDir tmp;
  std::mt19937_64 rng(9);
  pcnn::ModelImages images;
  images.model_name = "stem";
  images.source_file = "stem.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 3;
  g.out_channels = 8;
  g.in_h = g.in_w = 16;
  g.kernel_h = g.kernel_w = 7;
  g.stride_h = g.stride_w = 2;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 3;
  images.layers.push_back(pcnn::make_dense_layer_with_geometry(g, true, rng, "stem"));
  g.in_channels = 8;
  g.in_h = g.in_w = 8;
  g.kernel_h = g.kernel_w = 3;
  g.stride_h = g.stride_w = 1;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  g.group = 2;
  images.layers.push_back(pcnn::make_dense_layer_with_geometry(g, false, rng, "grouped"));
  images.layers[1].index = 1;
  const std::string dir = tmp.path + "/images", json = tmp.path + "/r.json";
  pcnn::write_model_images(images, dir);
  const RunResult r = run_sim(tmp, "run '" + dir + "' --all --json '" + json + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("(stem lowered: 7x7 kernel as 4 2x7 sub-kernels") != std::string::npos);
  CHECK(r.out.find("(grouped lowered: 2 groups as separate passes)") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(slurp(json));
  REQUIRE(j["layers"].size() == 2);
  CHECK(j["layers"][0]["stats"]["tiling"]["passes"] == 1);
  CHECK(j["layers"][1]["stats"]["tiling"]["passes"] == 2);
  CHECK(j["layers"][1]["stats"]["lowering"] == "2 groups as separate passes");
  // Dense layers: the same cycles as their dense twin.
  CHECK(j["layers"][1]["speedup_vs_dense"].get<double>() == 1.0);
}

TEST_CASE("pcnn-sim run: bad images and manifests", "[sim][cli]") {
  TempDir tmp;
  const std::string images = make_images(tmp);
  expect_failure(tmp, "run '" + tmp.path + "/missing'", "missing");
  // Corrupted image: one byte of the weights flipped.
  const std::string bad = tmp.path + "/bad";
  std::system(("cp -r '" + images + "' '" + bad + "'").c_str());
  {
    std::fstream f(bad + "/weights.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put(static_cast<char>(0x5a));
  }
  expect_failure(tmp, "run '" + bad + "'", "weights.bin");
  // Corrupted manifest.
  std::system(("cp -r '" + images + "'/. '" + bad + "'").c_str());
  write_text(bad + "/manifest.json", "{\"version\": 1, \"layers\": [");
  expect_failure(tmp, "run '" + bad + "'", "manifest.json");
  // Unknown manifest version.
  nlohmann::json m = nlohmann::json::parse(slurp(images + "/manifest.json"));
  m["version"] = 99;
  write_text(bad + "/manifest.json", m.dump());
  expect_failure(tmp, "run '" + bad + "'", "version");
  // Unknown layer.
  expect_failure(tmp, "run '" + images + "' --layer conv9", "conv9");
}

TEST_CASE("pcnn-sim run: bad architecture files", "[sim][cli]") {
  TempDir tmp;
  const std::string images = make_images(tmp);
  const std::string arch = tmp.path + "/arch.json";
  write_text(arch, R"({"pe_cuont": 8})");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'", "pe_cuont: unknown key");
  write_text(arch, R"({"pe_count": "8"})");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'", "pe_count: expected an integer");
  write_text(arch, R"({"pe_count": 0})");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'", "pe_count");
  write_text(arch, R"({"weight_sram": {"size_bytes": 2048}})");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'",
                 "weight_sram.size_bytes: too small for one tile");
  write_text(arch, R"({"data_sram": {"size_bytes": 512}})");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'",
                 "data_sram.size_bytes: too small for one tile");
  write_text(arch, "{ not json");
  expect_failure(tmp, "run '" + images + "' --arch '" + arch + "'", "not valid JSON");
}

TEST_CASE("pcnn-sim run: bad input tensors and trace options", "[sim][cli]") {
  TempDir tmp;
  const std::string images = make_images(tmp);
  pcnn::Int8Tensor t;
  t.c = 4;  // convA needs 5x9x9
  t.h = t.w = 9;
  t.data.assign(4 * 81, 1);
  const std::string in = tmp.path + "/in.pcnt";
  pcnn::write_tensor_file(in, t);
  expect_failure(tmp, "run '" + images + "' --layer convA --input '" + in + "'", "needs 5x9x9");
  write_text(in, "PCNT\x01");
  expect_failure(tmp, "run '" + images + "' --layer convA --input '" + in + "'", "truncated");
  const std::string vcd = tmp.path + "/trace.vcd";
  expect_failure(tmp, "run '" + images + "' --vcd /nonexistent/dir/t.vcd", "/nonexistent/dir/t.vcd");
  expect_failure(tmp, "run '" + images + "' --vcd '" + vcd + "' --vcd-window 500:20", "--vcd-window");
  expect_failure(tmp, "run '" + images + "' --vcd '" + vcd + "' --vcd-window 5-20", "--vcd-window");
  expect_failure(tmp, "run '" + images + "' --act-mode fast", "--act-mode");
}
