// Architecture sweeps: the sweep file (expansion, every bad input), the CSV
// reader and writer, the process pool, shards and their merge, the Slurm
// script, and `pcnn-sim sweep` as a program against direct `pcnn-sim run`s.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sweep/csv_table.hpp"
#include "pcnn/sweep/process_pool.hpp"
#include "pcnn/sweep/sweep_runner.hpp"
#include "pcnn/sweep/sweep_spec.hpp"

namespace {

namespace fs = std::filesystem;

struct SweepDir {
  std::string path;
  SweepDir() {
    char tmpl[] = "/tmp/pcnn_sweep_XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~SweepDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }
};

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two small layers, written as images under dir/name.
void write_tiny_images(const SweepDir& d, const std::string& name) {
  std::mt19937_64 rng(21);
  pcnn::ModelImages images;
  images.model_name = name;
  images.source_file = name + ".onnx";
  pcnn::ConvGeometry g;
  g.in_channels = 6;
  g.out_channels = 20;
  g.in_h = g.in_w = 8;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "convA"));
  g.in_channels = 20;
  g.out_channels = 12;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 2, 4, false, rng, "convB"));
  images.layers[1].index = 1;
  pcnn::write_model_images(images, d.file(name));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Run {
  int status;
  std::string out, err;
};

Run run_program(const SweepDir& d, const std::string& args) {
  const std::string out = d.file("stdout.txt"), err = d.file("stderr.txt");
  const std::string cmd = "cd '" + d.path + "' && " + std::string(PCNN_BINARY_DIR) +
                          "/pcnn-sim " + args + " > '" + out + "' 2> '" + err + "'";
  const int rc = std::system(cmd.c_str());
  Run r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_text(out), read_text(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

bool has_scratch(const SweepDir& d) {
  for (const auto& e : fs::directory_iterator(d.path))
    if (e.path().filename().string().rfind(".pcnn-sweep-", 0) == 0) return true;
  return false;
}

const char* kTwoByTwo = R"({
  "workloads": [{"name": "tiny", "images": "tiny", "act_density": 0.6, "seed": 4}],
  "grid": {"pe_count": [8, 64], "weight_sram.size_bytes": [65536, 131072]},
  "act_modes": ["off", "gate"]
})";

}  // namespace

TEST_CASE("a sweep file expands workload-major, grid by key, act mode innermost", "[sweep]") {
  SweepDir d;
  write_tiny_images(d, "tiny");
  write_tiny_images(d, "other");
  const std::string path = d.write("s.json", R"({
    "workloads": [{"images": "tiny"}, {"name": "second", "images": "other", "layer": "convB"}],
    "arch": {"clock_mhz": 200.0},
    "grid": {"pe_count": [16, 32, 64], "data_sram.banks": [4, 8]},
    "act_modes": ["skip", "off"],
    "dense_baseline": false
  })");
  const pcnn::SweepSpec s = pcnn::read_sweep_file(path);
  REQUIRE(s.point_count() == 2 * 3 * 2 * 2);
  CHECK(s.workloads[0].name == "tiny");  // from the directory name
  CHECK(s.workloads[0].images == d.path + "/tiny");  // relative to the sweep file
  CHECK(s.workloads[1].layer == "convB");
  CHECK_FALSE(s.dense_baseline);
  REQUIRE(s.grid.size() == 2);
  CHECK(s.grid[0].key == "data_sram.banks");  // sorted keys
  CHECK(s.grid[1].key == "pe_count");
  const pcnn::SweepPoint p = s.point(15);  // workload 1, banks 4, pe 32, mode off
  CHECK(p.workload == 1);
  CHECK(p.act_mode == pcnn::ActMode::off);
  CHECK(p.params[0].second == 4);
  CHECK(p.params[1].second == 32);
  const pcnn::ArchConfig a = pcnn::arch_from_json(p.arch_json, "point");
  CHECK(a.pe_count == 32);
  CHECK(a.data_sram.banks == 4);
  CHECK(a.clock_mhz == 200.0);  // the base architecture is kept
  CHECK(a.data_sram.size_bytes == pcnn::ArchConfig{}.data_sram.size_bytes);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < s.point_count(); ++i) seen.insert(s.point(i).arch_json.dump() +
                                                                std::to_string(s.point(i).workload) +
                                                                pcnn::to_string(s.point(i).act_mode));
  CHECK(seen.size() == s.point_count());
}

TEST_CASE("bad sweep files are rejected with one line naming the key", "[sweep]") {
  SweepDir d;
  write_tiny_images(d, "tiny");
  const std::string w = R"("workloads": [{"images": "tiny"}])";
  const std::pair<std::string, std::string> cases[] = {
      {"{", "not valid JSON"},
      {"[]", "top level: expected a JSON object"},
      {"{" + w + R"(, "grids": {}})", "grids: unknown key"},
      {R"({"workloads": []})", "workloads: expected a non-empty array"},
      {R"({"workloads": [{"images": "tiny", "density": 1}]})", "workloads[0].density: unknown key"},
      {R"({"workloads": [{"name": "x"}]})", "workloads[0].images: missing"},
      {R"({"workloads": [{"images": "nowhere"}]})", "workloads[0].images:"},
      {R"({"workloads": [{"images": "tiny", "layer": "convZ"}]})", "no layer named 'convZ'"},
      {R"({"workloads": [{"images": "tiny", "act_density": 2}]})", "act_density: must be in 0..1"},
      {R"({"workloads": [{"images": "tiny", "seed": "one"}]})", "seed: expected an integer"},
      {R"({"workloads": [{"images": "tiny"}, {"images": "tiny"}]})", "'tiny' is used twice"},
      {"{" + w + R"(, "grid": {"pe_counts": [8]}})", "grid.pe_counts: not an architecture parameter"},
      {"{" + w + R"(, "grid": {"weight_sram": [8]}})", "grid.weight_sram: not an architecture parameter"},
      {"{" + w + R"(, "grid": {"pe_count": []}})", "grid.pe_count: expected a non-empty array"},
      {"{" + w + R"(, "grid": {"pe_count": [[8]]}})", "grid.pe_count: values must be numbers"},
      {"{" + w + R"(, "grid": {"pe_count": ["8"]}})", "point 0 (tiny, pe_count=\"8\", act_mode=off): pe_count: expected an integer"},
      {"{" + w + R"(, "grid": {"pe_count": [8, 0]}})", "point 1 (tiny, pe_count=0, act_mode=off): pe_count: must be in 1..4096"},
      {"{" + w + R"(, "grid": {"pe_count": [64, 4096], "weight_sram.size_bytes": [4096, 131072]}})",
       "point 2 (tiny, pe_count=4096, weight_sram.size_bytes=4096, act_mode=off): weight_sram.size_bytes: too small"},
      {"{" + w + R"(, "act_modes": ["fast"]})", "act_modes: 'fast' is not one of off, gate, skip"},
      {"{" + w + R"(, "arch": "missing.json"})", "missing.json: cannot open architecture file"},
      {"{" + w + R"(, "arch": {"pe_count": -1}})", "arch: pe_count: must be in 1..4096"},
      {"{" + w + R"(, "arch": 5})", "arch: expected an architecture file name"},
      {"{" + w + R"(, "dense_baseline": 1})", "dense_baseline: expected true or false"},
      {"{" + w + R"(, "grid": {"pe_count": [1,2,3,4,5,6,7,8,9,10,11], "lanes_per_pe": [1,2,3,4,5,6,7,8,9,10],
          "clock_mhz": [1,2,3,4,5,6,7,8,9,10], "psum_entries_per_pe": [1,2,3,4,5,6,7,8,9,10],
          "kernel_register_words": [10,11,12,13,14,15,16,17,18,19]}})",
       "more than 100000 points"},
  };
  int i = 0;
  for (const auto& [text, expected] : cases) {
    const std::string path = d.write("bad" + std::to_string(i++) + ".json", text);
    const std::string msg = error_of([&] { pcnn::read_sweep_file(path); });
    INFO(text);
    CHECK(msg.find(expected) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  CHECK(error_of([&] { pcnn::read_sweep_file(d.file("absent.json")); }).find("cannot open sweep file") !=
        std::string::npos);
}

TEST_CASE("CSV files round-trip quoted fields and reject malformed ones", "[sweep]") {
  SweepDir d;
  pcnn::CsvTable t;
  t.header = {"a", "b,c", "d"};
  t.rows = {{"1", "x \"quoted\"", "line\nbreak"}, {"", ",", "plain"}};
  pcnn::write_csv_file(d.file("t.csv"), t);
  CHECK_FALSE(fs::exists(d.file("t.csv.tmp")));
  const pcnn::CsvTable back = pcnn::read_csv_file(d.file("t.csv"));
  CHECK(back.header == t.header);
  CHECK(back.rows == t.rows);
  d.write("crlf.csv", "a,b\r\n1,2\r\n");
  CHECK(pcnn::read_csv_file(d.file("crlf.csv")).rows[0][1] == "2");
  d.write("ragged.csv", "a,b\n1,2,3\n");
  CHECK(error_of([&] { pcnn::read_csv_file(d.file("ragged.csv")); }).find("record 2 has 3 fields") !=
        std::string::npos);
  d.write("open.csv", "a,b\n\"1,2\n");
  CHECK(error_of([&] { pcnn::read_csv_file(d.file("open.csv")); }).find("unterminated") !=
        std::string::npos);
  d.write("empty.csv", "");
  CHECK(error_of([&] { pcnn::read_csv_file(d.file("empty.csv")); }).find("empty CSV") !=
        std::string::npos);
  CHECK(error_of([&] { pcnn::write_csv_file(d.file("no/such/dir.csv"), t); })
            .find("cannot write the CSV file") != std::string::npos);
}

TEST_CASE("the process pool reports exit codes, signals and stops after a failure", "[sweep]") {
  SweepDir d;
  auto job = [&](const std::string& script, int i) {
    return pcnn::ProcessJob{{"/bin/sh", "-c", script}, d.file("e" + std::to_string(i))};
  };
  std::vector<pcnn::ProcessJob> ok = {job("exit 0", 0), job("echo hi; exit 0", 1), job("true", 2)};
  std::size_t calls = 0;
  const auto good = pcnn::run_processes(ok, 2, [&](std::size_t done, std::size_t total) {
    ++calls;
    CHECK(done <= total);
  });
  CHECK(calls == 3);
  for (const auto& o : good) CHECK((o.started && o.exit_code == 0));

  std::vector<pcnn::ProcessJob> bad = {job("echo first >&2; echo 'the reason' >&2; exit 3", 0),
                                       job("kill -9 $$", 1), job("exit 0", 2)};
  const auto r = pcnn::run_processes(bad, 1);
  CHECK(r[0].exit_code == 3);
  CHECK(r[0].error_line == "the reason");
  CHECK_FALSE(r[1].started);  // nothing new after the first failure
  CHECK_FALSE(r[2].started);
  const auto killed = pcnn::run_processes({job("kill -9 $$", 0)}, 1);
  CHECK(killed[0].exit_code == 128 + 9);
  const auto missing =
      pcnn::run_processes({pcnn::ProcessJob{{"/nonexistent/program"}, d.file("m")}}, 1);
  CHECK(missing[0].exit_code == 127);
  CHECK_THROWS_AS(pcnn::run_processes(ok, 0), pcnn::Error);
}

TEST_CASE("shards partition the points and parse K/N strictly", "[sweep]") {
  SweepDir d;
  write_tiny_images(d, "tiny");
  const pcnn::SweepSpec s = pcnn::read_sweep_file(d.write("s.json", kTwoByTwo));
  REQUIRE(s.point_count() == 8);
  std::vector<int> hits(8, 0);
  for (int k = 0; k < 3; ++k)
    for (std::size_t p : pcnn::shard_points(s, pcnn::parse_shard(std::to_string(k) + "/3", "--shard")))
      ++hits[p];
  CHECK(hits == std::vector<int>(8, 1));
  for (const char* bad : {"3/3", "1", "-1/2", "a/b", "1/0", "/2", "2/", "1/2/3"})
    CHECK(error_of([&] { pcnn::parse_shard(bad, "--shard"); }).find("--shard: '") == 0);
}

TEST_CASE("pcnn-sim sweep: rows equal direct runs, shards merge to the full table", "[sweep][cli]") {
  SweepDir d;
  write_tiny_images(d, "tiny");
  d.write("s.json", kTwoByTwo);
  const Run r = run_program(d, "sweep s.json -j 2 -o all.csv");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("8 of 8 points") != std::string::npos);
  CHECK_FALSE(has_scratch(d));
  const pcnn::CsvTable all = pcnn::read_csv_file(d.file("all.csv"));
  REQUIRE(all.rows.size() == 8);
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < all.header.size(); ++i)
      if (all.header[i] == name) return i;
    FAIL("no column " << name);
    return std::size_t{0};
  };

  // Point 5: pe_count 64, weight SRAM 65536, gate. The same run by hand.
  const auto& row = all.rows[5];
  CHECK(row[col("pe_count")] == "64");
  CHECK(row[col("weight_sram.size_bytes")] == "65536");
  CHECK(row[col("act_mode")] == "gate");
  pcnn::ArchConfig a;
  a.weight_sram.size_bytes = 65536;
  d.write("a.json", pcnn::arch_to_json(a).dump());
  const Run direct = run_program(d, "run tiny --all --arch a.json --act-mode gate --seed 4 "
                                    "--act-density 0.6 --json direct.json");
  REQUIRE(direct.status == 0);
  const nlohmann::json j = nlohmann::json::parse(read_text(d.file("direct.json")));
  CHECK(row[col("cycles")] == std::to_string(j["total"]["cycles"].get<std::uint64_t>()));
  CHECK(row[col("dense_cycles")] == std::to_string(j["total"]["dense_cycles"].get<std::uint64_t>()));
  std::uint64_t macs = 0;
  for (const auto& l : j["layers"]) macs += l["stats"]["macs_issued"].get<std::uint64_t>();
  CHECK(row[col("macs_issued")] == std::to_string(macs));
  // Fewer PEs take longer.
  CHECK(std::stoull(all.rows[0][col("cycles")]) > std::stoull(all.rows[4][col("cycles")]));

  // Shards, then the merge: the same table except the wall times.
  for (int k = 0; k < 3; ++k) {
    const Run s = run_program(d, "sweep s.json -j 1 --shard " + std::to_string(k) + "/3 -o part." +
                                     std::to_string(k) + ".csv");
    REQUIRE(s.status == 0);
  }
  const Run partial = run_program(d, "sweep s.json --merge part.0.csv part.1.csv -o merged.csv");
  CHECK(partial.status != 0);
  CHECK(partial.err == "pcnn-sim: s.json: 2 of 8 points are in none of the files: 2, 5\n");
  CHECK_FALSE(fs::exists(d.file("merged.csv")));
  const Run twice = run_program(d, "sweep s.json --merge part.0.csv part.0.csv -o merged.csv");
  CHECK(twice.err.find("part.0.csv: point 0 appears in more than one row") != std::string::npos);
  const Run merged = run_program(d, "sweep s.json --merge part.0.csv part.1.csv part.2.csv -o merged.csv");
  REQUIRE(merged.status == 0);
  const pcnn::CsvTable m = pcnn::read_csv_file(d.file("merged.csv"));
  REQUIRE(m.rows.size() == 8);
  for (std::size_t p = 0; p < 8; ++p) {
    auto a_row = all.rows[p], m_row = m.rows[p];
    a_row.pop_back();  // wall_s
    m_row.pop_back();
    CHECK(a_row == m_row);
  }
  // A CSV of another sweep does not merge.
  d.write("other.json", R"({"workloads": [{"images": "tiny"}]})");
  const Run foreign = run_program(d, "sweep other.json --merge part.0.csv -o x.csv");
  CHECK(foreign.err.find("part.0.csv: its columns are not those of other.json") != std::string::npos);
}

TEST_CASE("pcnn-sim sweep: a failing point, bad options and the Slurm script", "[sweep][cli]") {
  SweepDir d;
  write_tiny_images(d, "tiny");
  // Valid architectures, but a 32-byte Pattern SRAM cannot hold one tile's indices.
  d.write("fail.json", R"({"workloads": [{"images": "tiny"}],
                          "grid": {"pattern_sram.size_bytes": [4096, 32]}})");
  const Run f = run_program(d, "sweep fail.json -j 2 -o f.csv");
  CHECK(f.status != 0);
  CHECK(f.err.find("pcnn-sim: fail.json: point 1 (tiny, pattern_sram.size_bytes=32, act_mode=off): ") == 0);
  CHECK(f.err.find("pattern_sram.size_bytes: too small") != std::string::npos);
  CHECK(std::count(f.err.begin(), f.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(d.file("f.csv")));
  CHECK_FALSE(fs::exists(d.file("f.csv.tmp")));
  CHECK_FALSE(has_scratch(d));

  d.write("s.json", kTwoByTwo);
  const std::pair<std::string, std::string> bad[] = {
      {"sweep", "no SWEEP.json given"},
      {"sweep s.json -j 0", "-j: must be in 1..1024"},
      {"sweep s.json --shard 4/4", "--shard: '4/4' is not K/N"},
      {"sweep s.json -o .", "-o: '.' is a directory, not a file"},
      {"sweep s.json -o /nonexistent/dir/r.csv", "-o: cannot write into directory '/nonexistent/dir'"},
      {"sweep s.json --merge a.csv", "--merge: needs -o FILE"},
      {"sweep s.json --merge missing.csv -o m.csv", "missing.csv: cannot open CSV file"},
      {"sweep s.json --slurm-script job.sh", "--slurm-script: needs --shards N"},
      {"sweep s.json --slurm-script job.sh --shards 9", "--shards: must be in 1..8"},
      {"sweep s.json --shards 2", "--shards: needs --slurm-script FILE"},
      {"sweep s.json --list --merge a.csv -o m.csv", "exclude each other"},
      {"sweep s.json --bogus", "command line: unrecognised option '--bogus'"},
      {"sweep nope.json", "nope.json: cannot open sweep file"},
  };
  for (const auto& [args, expected] : bad) {
    const Run b = run_program(d, args);
    INFO(args << " -> " << b.err);
    CHECK(b.status != 0);
    CHECK(b.err.find(expected) != std::string::npos);
    CHECK(std::count(b.err.begin(), b.err.end(), '\n') == 1);
  }
  CHECK_FALSE(fs::exists(d.file("m.csv")));
  CHECK_FALSE(fs::exists(d.file("job.sh")));

  const Run list = run_program(d, "sweep s.json --list");
  REQUIRE(list.status == 0);
  CHECK(list.out.find("5 tiny pe_count=64 weight_sram.size_bytes=65536 act_mode=gate") !=
        std::string::npos);

  fs::create_directory(d.file("results"));
  const Run s = run_program(d, "sweep s.json --slurm-script job.sh --shards 3 -j 4 -o results/r.csv");
  REQUIRE(s.status == 0);
  const std::string script = read_text(d.file("job.sh"));
  CHECK(script.rfind("#!/bin/bash\n", 0) == 0);
  CHECK(script.find("#SBATCH --array=0-2\n") != std::string::npos);
  CHECK(script.find("#SBATCH --cpus-per-task=4\n") != std::string::npos);
  CHECK(script.find("--shard \"${SLURM_ARRAY_TASK_ID}/3\"") != std::string::npos);
  CHECK(script.find("'" + d.path + "/s.json'") != std::string::npos);
  CHECK(std::system(("bash -n '" + d.file("job.sh") + "'").c_str()) == 0);
  // Array task 1, run by hand as Slurm would run it (#SBATCH lines are comments to bash).
  CHECK(std::system(("cd '" + d.path + "' && SLURM_ARRAY_TASK_ID=1 SLURM_CPUS_PER_TASK=1 bash job.sh").c_str()) == 0);
  const pcnn::CsvTable part = pcnn::read_csv_file(d.file("results/r.1.csv"));
  CHECK(part.rows.size() == 3);  // points 1, 4, 7
  CHECK(part.rows[1][0] == "4");
}
