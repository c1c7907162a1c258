// Inputs that would take unbounded memory or time are refused or stopped with
// one line naming the key or option: architecture limits, --max-cycles, idle
// DRAM time that costs nothing, the VCD size guard, FIFOs and directories in
// place of input files, JSON with invalid UTF-8.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/image/model_images.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "one_layer_images.hpp"
#include "prune_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using pcnn_test::run_program;
using pcnn_test::RunResult;
using pcnn_test::slurp;
using pcnn_test::TempDir;
using pcnn_test::write_text;

std::string make_images(const std::string& dir, const std::string& model_name = "tiny") {
  return pcnn_test::write_one_layer_images(dir, 8, 16, 16, 3, model_name);
}

std::string arch_error(const nlohmann::json& j) {
  try {
    pcnn::arch_from_json(j, "a.json");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

void expect_one_line(const RunResult& r, const std::string& expected) {
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err == "pcnn-sim: " + expected + "\n");
}

}  // namespace

TEST_CASE("architecture values have upper limits that name the key", "[sim][arch][bounded]") {
  using nlohmann::json;
  CHECK(arch_error({{"weight_sram", {{"size_bytes", 17179869184LL}}}}) ==
        "a.json: weight_sram.size_bytes: must be in 1..67108864 (64 MiB)");
  CHECK(arch_error({{"data_sram", {{"size_bytes", 1000000000000000000LL}}}}) ==
        "a.json: data_sram.size_bytes: must be in 1..67108864 (64 MiB)");
  CHECK(arch_error({{"pattern_sram", {{"banks", 1 << 20}}}}) ==
        "a.json: pattern_sram.banks: must be in 1..1024");
  CHECK(arch_error({{"pattern_sram", {{"word_bytes", 1 << 20}}}}) ==
        "a.json: pattern_sram.word_bytes: must be in 1..4096");
  CHECK(arch_error({{"clock_mhz", 1e-12}}) == "a.json: clock_mhz: must be in 1..100000");
  CHECK(arch_error({{"psum_entries_per_pe", 1 << 30}}) ==
        "a.json: psum_entries_per_pe: must be in 1..65536");
  CHECK(arch_error({{"pe_count", 4096},
                    {"psum_entries_per_pe", 65536},
                    {"weight_sram", {{"size_bytes", 1 << 20}}}})
            .find("psum_entries_per_pe: times pe_count must be at most") != std::string::npos);
  CHECK(arch_error({{"dram", {{"latency_ns", 1e12}}}}) ==
        "a.json: dram.latency_ns: must be in 0..1000000000 (one second)");
  CHECK(arch_error({{"dram", {{"bandwidth_gbps", 1e300}}}}) ==
        "a.json: dram.bandwidth_gbps: must be in 0.001..1000000");
  CHECK(arch_error({{"weight_sram", {{"size_bytes", 1 << 26}}}}) == "accepted");
}

TEST_CASE("pcnn-sim run: idle DRAM time costs nothing and --max-cycles stops a long run",
          "[sim][cli][bounded]") {
  TempDir tmp;
  const std::string images = make_images(tmp / "images");
  // 0.1 s of DRAM latency per access: hundreds of millions of idle cycles,
  // which the run sleeps through instead of evaluating each.
  write_text(tmp / "slow.json", R"({"dram": {"latency_ns": 1e8}})");
  const std::string json = tmp / "r.json";
  RunResult r = run_program(
      tmp, "pcnn-sim",
      "run '" + images + "' --no-dense --arch '" + tmp / "slow.json" + "' --json '" + json + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(slurp(json));
  const std::uint64_t cycles = j["total"]["cycles"];
  CHECK(cycles > 30'000'000);  // at least one access: 1e8 ns at 300 MHz
  CHECK(j["layers"][0]["stats"]["stall_cycles"]["dram"].get<std::uint64_t>() > 30'000'000);

  fs::remove(json);
  r = run_program(tmp, "pcnn-sim",
                  "run '" + images + "' --no-dense --arch '" + tmp / "slow.json" +
                      "' --max-cycles 1000000 --json '" + json + "'");
  expect_one_line(r,
                  "--max-cycles: the run did not finish within 1000000 clock cycles; raise "
                  "--max-cycles if that is expected");
  CHECK(!fs::exists(json));
  r = run_program(tmp, "pcnn-sim", "run '" + images + "' --max-cycles 0");
  CHECK(r.status == 1);
  CHECK(r.err.find("--max-cycles: 0 cycles") != std::string::npos);
}

TEST_CASE("pcnn-sim run: VCD size guard before and during the run", "[sim][cli][bounded]") {
  TempDir tmp;
  const std::string images = make_images(tmp / "images");
  const std::string vcd = tmp / "t.vcd";
  // A run whose estimate is far over the limit is refused before it starts.
  write_text(tmp / "one_pe.json", R"({"pe_count": 1, "lanes_per_pe": 1})");
  RunResult r = run_program(tmp, "pcnn-sim",
                            "run '" + images + "' --arch '" + tmp / "one_pe.json" + "' --vcd '" +
                                vcd + "' --vcd-max-mb 1");
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("pcnn-sim: --vcd-max-mb: the trace of at least") == 0);
  CHECK(r.err.find("narrow --vcd-window or raise --vcd-max-mb") != std::string::npos);
  // The same run with a window that fits is traced.
  r = run_program(tmp, "pcnn-sim",
                  "run '" + images + "' --arch '" + tmp / "one_pe.json" + "' --vcd '" + vcd +
                      "' --vcd-max-mb 1 --vcd-window 0:1000");
  CHECK(r.status == 0);
  CHECK(fs::exists(vcd));
  // Stopped while writing when the trace grows past the limit the estimate
  // allowed: the estimate counts MACs, not the DRAM waits that are traced too.
  fs::remove(vcd);
  write_text(tmp / "slow.json", R"({"dram": {"latency_ns": 100000}})");
  r = run_program(
      tmp, "pcnn-sim",
      "run '" + images + "' --arch '" + tmp / "slow.json" + "' --vcd '" + vcd + "' --vcd-max-mb 1");
  CHECK(r.status == 1);
  CHECK(r.err.find("--vcd-max-mb: the trace " + vcd + " grew past 1 MiB") != std::string::npos);
  CHECK(!fs::exists(vcd));
  for (const auto& e : fs::directory_iterator(tmp.path()))  // no temporary left behind
    CHECK(e.path().filename().string().front() != '.');
}

TEST_CASE("input files: a FIFO or a directory is refused at once with the reason",
          "[sim][cli][bounded]") {
  TempDir tmp;
  const std::string images = make_images(tmp / "images");
  // A FIFO in place of an image file: refused, not waited on.
  fs::remove(images + "/weights.bin");
  REQUIRE(::mkfifo((images + "/weights.bin").c_str(), 0600) == 0);
  RunResult r = run_program(tmp, "pcnn-sim", "run '" + images + "'");
  expect_one_line(r, images + "/weights.bin: cannot read file: is a FIFO, not a regular file");

  const std::string good = make_images(tmp / "good");
  r = run_program(tmp, "pcnn-sim", "run '" + good + "' --arch '" + tmp.path() + "'");
  expect_one_line(r, tmp.path() + ": cannot read architecture file: is a directory");
  r = run_program(tmp, "pcnn-sim", "run '" + good + "' --arch '" + tmp / "missing.json" + "'");
  expect_one_line(r,
                  tmp / "missing.json: cannot open architecture file: No such file or directory");
  r = run_program(tmp, "pcnn-sim", "run '" + good + "' --layer convA --input '" + tmp.path() + "'");
  expect_one_line(r, tmp.path() + ": cannot read input tensor file: is a directory");
  REQUIRE(::mkfifo((tmp / "arch.fifo").c_str(), 0600) == 0);
  r = run_program(tmp, "pcnn-sim", "run '" + good + "' --arch '" + tmp / "arch.fifo" + "'");
  expect_one_line(r,
                  tmp / "arch.fifo: cannot read architecture file: is a FIFO, not a regular file");
  write_text(tmp / "bad.json", "{\"clock_mhz\": \"\xff\xfe\"}");
  r = run_program(tmp, "pcnn-sim", "run '" + good + "' --arch '" + tmp / "bad.json" + "'");
  CHECK(r.status == 1);
  CHECK(r.err.rfind("pcnn-sim: " + tmp / "bad.json: not valid JSON: parse error at line 1", 0) ==
        0);
  CHECK(r.err.find("json.exception") == std::string::npos);
}

TEST_CASE("names that are not valid UTF-8 do not fail the result files", "[sim][cli][bounded]") {
  TempDir tmp;
  const std::string images = make_images(tmp / "images", "model\xff\xfe");
  const std::string json = tmp / "r.json";
  const RunResult r =
      run_program(tmp, "pcnn-sim", "run '" + images + "' --no-dense --json '" + json + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(slurp(json));
  CHECK(j["images"]["model_name"] == "model\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD twice
}
