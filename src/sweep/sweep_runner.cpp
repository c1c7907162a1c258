#include "pcnn/sweep/sweep_runner.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "pcnn/core/error.hpp"
#include "pcnn/sweep/process_pool.hpp"

namespace pcnn {

namespace {

namespace fs = std::filesystem;

const char* const kResultColumns[] = {
    "layers",          "cycles",           "time_us",           "lane_utilisation",
    "dense_cycles",    "speedup_vs_dense", "macs_issued",       "macs_effectual",
    "stall_weight_sram", "stall_pattern_sram", "stall_register_refill", "stall_data_sram",
    "stall_dram",      "stall_fill_drain", "stall_writeback",   "weight_sram_bytes",
    "pattern_sram_bytes", "data_sram_bytes", "dram_bytes",      "dram_energy_pj",
    "wall_s"};

std::string number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// The scratch directory of one sweep run, removed however the run ends.
struct ScratchDir {
  std::string path;
  explicit ScratchDir(const std::string& parent) {
    std::string tmpl = parent + "/.pcnn-sweep-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw Error(parent, "cannot create a scratch directory for the sweep");
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> point_command(const SweepSpec& spec, const SweepPoint& p,
                                       const std::string& program, const std::string& arch_file,
                                       const std::string& result_file) {
  const SweepWorkload& w = spec.workloads[p.workload];
  std::vector<std::string> argv = {program, "run", w.images};
  if (w.layer.empty()) {
    argv.push_back("--all");
  } else {
    argv.insert(argv.end(), {"--layer", w.layer});
  }
  argv.insert(argv.end(), {"--arch", arch_file, "--act-mode", to_string(p.act_mode), "--seed",
                           std::to_string(w.seed), "--act-density", number(w.act_density, 6),
                           "--json", result_file});
  if (!spec.dense_baseline) argv.push_back("--no-dense");
  return argv;
}

// Totals of one `pcnn-sim run --json` result.
std::vector<std::string> result_fields(const nlohmann::json& r, double wall_s) {
  std::uint64_t macs = 0, effectual = 0;
  std::map<std::string, std::uint64_t> stalls, bytes;
  double energy = 0.0;
  for (const nlohmann::json& l : r.at("layers")) {
    const nlohmann::json& s = l.at("stats");
    macs += s.at("macs_issued").get<std::uint64_t>();
    effectual += s.at("macs_effectual").get<std::uint64_t>();
    for (auto it = s.at("stall_cycles").begin(); it != s.at("stall_cycles").end(); ++it)
      stalls[it.key()] += it->get<std::uint64_t>();
    for (const char* mem : {"weight_sram", "pattern_sram", "data_sram", "dram"})
      bytes[mem] += s.at(mem).at("bytes_read").get<std::uint64_t>() +
                    s.at(mem).at("bytes_written").get<std::uint64_t>();
    energy += s.at("dram_energy_pj").get<double>();
  }
  const nlohmann::json& t = r.at("total");
  const bool dense = t.contains("dense_cycles");
  return {std::to_string(r.at("layers").size()),
          std::to_string(t.at("cycles").get<std::uint64_t>()),
          number(t.at("time_ns").get<double>() / 1000.0, 3),
          number(t.at("lane_utilisation").get<double>(), 6),
          dense ? std::to_string(t.at("dense_cycles").get<std::uint64_t>()) : "",
          dense ? number(t.at("speedup_vs_dense").get<double>(), 6) : "",
          std::to_string(macs),
          std::to_string(effectual),
          std::to_string(stalls["weight_sram"]),
          std::to_string(stalls["pattern_sram"]),
          std::to_string(stalls["register_refill"]),
          std::to_string(stalls["data_sram"]),
          std::to_string(stalls["dram"]),
          std::to_string(stalls["fill_drain"]),
          std::to_string(stalls["writeback"]),
          std::to_string(bytes["weight_sram"]),
          std::to_string(bytes["pattern_sram"]),
          std::to_string(bytes["data_sram"]),
          std::to_string(bytes["dram"]),
          number(energy, 1),
          number(wall_s, 3)};
}

}  // namespace

Shard parse_shard(const std::string& text, const std::string& option) {
  const auto slash = text.find('/');
  auto integer = [&](const std::string& s) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
      throw Error(option, "'" + text + "' is not K/N (shard K of N, 0 <= K < N)");
    return std::stoi(s);
  };
  if (slash == std::string::npos)
    throw Error(option, "'" + text + "' is not K/N (shard K of N, 0 <= K < N)");
  Shard s{integer(text.substr(0, slash)), integer(text.substr(slash + 1))};
  if (s.count < 1 || s.index >= s.count)
    throw Error(option, "'" + text + "' is not K/N (shard K of N, 0 <= K < N)");
  return s;
}

std::vector<std::size_t> shard_points(const SweepSpec& spec, const Shard& shard) {
  std::vector<std::size_t> points;
  for (std::size_t p = static_cast<std::size_t>(shard.index); p < spec.point_count();
       p += static_cast<std::size_t>(shard.count))
    points.push_back(p);
  return points;
}

std::vector<std::string> sweep_csv_header(const SweepSpec& spec) {
  std::vector<std::string> h = {"point", "workload", "layer", "act_mode", "act_density", "seed"};
  for (const SweepAxis& a : spec.grid) h.push_back(a.key);
  for (const char* c : kResultColumns) h.push_back(c);
  return h;
}

CsvTable run_sweep(const SweepSpec& spec, const SweepRunOptions& options) {
  const std::vector<std::size_t> points = shard_points(spec, options.shard);
  ScratchDir scratch(options.scratch_parent);
  std::vector<SweepPoint> selected;
  std::vector<ProcessJob> jobs;
  for (std::size_t p : points) {
    selected.push_back(spec.point(p));
    const std::string stem = scratch.path + "/point" + std::to_string(p);
    std::ofstream(stem + ".arch.json") << selected.back().arch_json.dump(2) << "\n";
    jobs.push_back({point_command(spec, selected.back(), options.program, stem + ".arch.json",
                                  stem + ".result.json"),
                    stem + ".stderr"});
  }
  const std::vector<ProcessOutcome> outcomes =
      run_processes(jobs, options.parallel, options.on_point_done);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const ProcessOutcome& o = outcomes[i];
    if (o.started && o.exit_code != 0)
      throw Error(spec.label(selected[i]),
                  o.error_line.empty() ? "pcnn-sim exited with code " + std::to_string(o.exit_code)
                                       : o.error_line);
  }

  CsvTable table;
  table.header = sweep_csv_header(spec);
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const SweepPoint& p = selected[i];
    const SweepWorkload& w = spec.workloads[p.workload];
    const std::string result_file = scratch.path + "/point" + std::to_string(p.index) + ".result.json";
    nlohmann::json r;
    try {
      std::ifstream in(result_file);
      in >> r;
    } catch (const nlohmann::json::exception&) {
      throw Error(spec.label(p), "pcnn-sim wrote no readable result");
    }
    std::vector<std::string> row = {std::to_string(p.index), w.name,
                                    w.layer.empty() ? "all" : w.layer, to_string(p.act_mode),
                                    number(w.act_density, 6), std::to_string(w.seed)};
    for (const auto& param : p.params) row.push_back(param.second.dump());
    const std::vector<std::string> results = result_fields(r, outcomes[i].wall_seconds);
    row.insert(row.end(), results.begin(), results.end());
    table.rows.push_back(std::move(row));
  }
  return table;
}

CsvTable merge_sweep_csv(const SweepSpec& spec, const std::vector<std::string>& files) {
  CsvTable merged;
  merged.header = sweep_csv_header(spec);
  std::map<std::size_t, std::vector<std::string>> by_point;
  for (const std::string& f : files) {
    CsvTable t = read_csv_file(f);
    if (t.header != merged.header)
      throw Error(f, "its columns are not those of " + spec.path + " (a different sweep?)");
    for (auto& row : t.rows) {
      const std::string& id = row[0];
      if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos || id.size() > 9 ||
          std::stoul(id) >= spec.point_count())
        throw Error(f, "point '" + id + "' is not a point of " + spec.path);
      if (!by_point.emplace(std::stoul(id), std::move(row)).second)
        throw Error(f, "point " + id + " appears in more than one row");
    }
  }
  std::string missing;
  int shown = 0;
  std::size_t missing_count = 0;
  for (std::size_t p = 0; p < spec.point_count(); ++p)
    if (!by_point.count(p)) {
      ++missing_count;
      if (shown++ < 10) missing += (missing.empty() ? "" : ", ") + std::to_string(p);
    }
  if (missing_count)
    throw Error(spec.path, std::to_string(missing_count) + " of " +
                               std::to_string(spec.point_count()) +
                               " points are in none of the files: " + missing +
                               (missing_count > 10 ? ", ..." : ""));
  for (auto& [p, row] : by_point) merged.rows.push_back(std::move(row));
  return merged;
}

std::string slurm_array_script(const SweepSpec& spec, const std::string& program, int shards,
                               int cpus_per_task, const std::string& output_stem) {
  if (shards < 1) throw Error("--shards", "must be at least 1");
  if (cpus_per_task < 1) throw Error("-j", "must be at least 1");
  const std::string sweep = fs::absolute(spec.path).string();
  const std::string exe = fs::absolute(program).string();
  const std::string stem = fs::absolute(output_stem).string();
  auto q = [](const std::string& s) {  // single-quoted for the shell
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string s;
  s += "#!/bin/bash\n";
  s += "# Slurm job array for the sweep " + sweep + ": " + std::to_string(spec.point_count()) +
       " points in " + std::to_string(shards) + " shards.\n";
  s += "# Submit with: sbatch <this file>\n";
  s += "# Then merge: " + q(exe) + " sweep " + q(sweep) + " --merge " + q(stem) + ".*.csv -o " +
       q(stem + ".csv") + "\n";
  s += "#SBATCH --job-name=pcnn-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(shards - 1) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(cpus_per_task) + "\n";
  s += "#SBATCH --output=" + stem + ".%a.log\n";
  s += "set -euo pipefail\n";
  s += "exec " + q(exe) + " sweep " + q(sweep) + " -j \"${SLURM_CPUS_PER_TASK:-" +
       std::to_string(cpus_per_task) + "}\" --shard \"${SLURM_ARRAY_TASK_ID}/" +
       std::to_string(shards) + "\" -o " + q(stem) + "\".${SLURM_ARRAY_TASK_ID}.csv\"\n";
  return s;
}

}  // namespace pcnn
