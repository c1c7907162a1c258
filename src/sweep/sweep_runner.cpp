#include "pcnn/sweep/sweep_runner.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <set>

#include "pcnn/core/error.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sweep/process_pool.hpp"
#include "pcnn/sweep/sweep_journal.hpp"

namespace pcnn {

namespace {

namespace fs = std::filesystem;

std::string number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Options every point's `pcnn-sim run` gets. They change what the rows mean, so
// they enter the run fingerprint: a journal or shard of another mode is refused.
std::vector<std::string> point_run_options(const SweepSpec& spec) {
  return {"--timing", to_string(spec.timing)};
}

// The cost model of docs/sweeps.md ("Balance"): a point's expected CPU
// seconds. The constants are medians of `build/bench_sweep_cost 5` (whole
// `pcnn-sim run` processes on VGG-16-CIFAR n = 4, 32 PEs, AMD EPYC, main at
// 4a2a476 with image format version 2). Gate and skip cost 1.1-1.2x off per
// MAC, and lt about what cycle costs: start-up, elaboration and the step
// arithmetic dominate both.
// A process that runs one small layer (conv1_1): start, images, elaboration.
constexpr double kProcessSeconds = 0.025;
// Seconds per stored MAC, by timing mode (cycle, lt) and act mode (off, gate,
// skip): (a whole-network run - the conv1_1 run) / the MACs between them.
constexpr double kSecondsPerMac[2][3] = {{0.850e-9, 0.967e-9, 0.940e-9},
                                         {0.797e-9, 0.939e-9, 0.948e-9}};
// Seconds per dense MAC of the dense baseline (its twins simulated, no cache):
// (a whole-network run with twins - without) / the network's dense MACs.
constexpr double kSecondsPerDenseMac[2][3] = {{0.554e-9, 0.622e-9, 0.619e-9},
                                              {0.539e-9, 0.607e-9, 0.588e-9}};
static_assert(static_cast<int>(ActMode::off) == 0 && static_cast<int>(ActMode::gate) == 1 &&
                  static_cast<int>(ActMode::skip) == 2,
              "the cost tables' columns follow ActMode");

// The scratch directory of one sweep run, removed however the run ends (a
// SIGKILL leaves it; it lives under $TMPDIR, which the system cleans).
struct ScratchDir {
  std::string path;
  explicit ScratchDir(const std::string& parent) {
    std::string tmpl = parent + "/pcnn-sweep-XXXXXX";
    if (!mkdtemp(tmpl.data()))
      throw Error(parent, std::string("cannot create a scratch directory for the sweep: ") +
                              std::strerror(errno));
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The one place a point's command is built.
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
  const std::vector<std::string> run_options = point_run_options(spec);
  argv.insert(argv.end(), run_options.begin(), run_options.end());
  return argv;
}

std::vector<std::string> point_fields(const SweepSpec& spec, const SweepPoint& p) {
  const SweepWorkload& w = spec.workloads[p.workload];
  std::vector<std::string> row = {std::to_string(p.index),           w.name,
                                  w.layer.empty() ? "all" : w.layer, to_string(p.act_mode),
                                  number(w.act_density, 6),          std::to_string(w.seed)};
  for (const auto& param : p.params) row.push_back(param.second.dump());
  return row;
}

// The point number in the first field, when it is a point of the sweep.
bool point_of_row(const SweepSpec& spec, const std::vector<std::string>& row, std::size_t& point) {
  const std::string& id = row.at(0);
  if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos)
    return false;
  point = std::stoul(id);
  return point < spec.point_count();
}

double cost_of(const SweepSpec& spec, std::size_t workload, ActMode mode) {
  const SweepWorkload& w = spec.workloads[workload];
  const std::size_t t = spec.timing == Timing::cycle ? 0 : 1;
  const std::size_t m = static_cast<std::size_t>(mode);
  double cost = kProcessSeconds + kSecondsPerMac[t][m] * static_cast<double>(w.macs_run);
  // The twins as if simulated: a cache filled by earlier points or runs
  // (docs/architecture.md) makes them cheaper, which no estimate can know.
  if (spec.dense_baseline)
    cost += kSecondsPerDenseMac[t][m] * static_cast<double>(w.dense_macs_run);
  return cost;
}

std::string shard_text(const Shard& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

}  // namespace

std::vector<std::string> sweep_result_columns() {
  std::vector<std::string> c = {"layers",           "cycles",        "time_us",
                                "lane_utilisation", "dense_cycles",  "speedup_vs_dense",
                                "macs_issued",      "macs_effectual"};
  for (const StallReasonField& f : kStallReasons) c.push_back(std::string("stall_") + f.key);
  for (const MemoryField& m : kMemories) c.push_back(std::string(m.key) + "_bytes");
  for (const std::string& e : energy_csv_columns()) c.push_back(e);
  c.insert(c.end(), {"energy_per_inference_uj", "wall_s"});
  return c;
}

std::vector<std::string> sweep_result_fields(const nlohmann::json& r, double wall_s) {
  std::uint64_t macs = 0, effectual = 0;
  std::array<std::uint64_t, kStallReasons.size()> stalls{};
  std::array<std::uint64_t, kMemories.size()> bytes{};
  for (const nlohmann::json& l : r.at("layers")) {
    const nlohmann::json& s = l.at("stats");
    macs += s.at("macs_issued").get<std::uint64_t>();
    effectual += s.at("macs_effectual").get<std::uint64_t>();
    for (std::size_t i = 0; i < kStallReasons.size(); ++i)
      stalls[i] += s.at("stall_cycles").at(kStallReasons[i].key).get<std::uint64_t>();
    for (std::size_t i = 0; i < kMemories.size(); ++i) {
      const nlohmann::json& m = s.at(kMemories[i].key);
      bytes[i] +=
          m.at("bytes_read").get<std::uint64_t>() + m.at("bytes_written").get<std::uint64_t>();
    }
  }
  const nlohmann::json& t = r.at("total");
  const bool dense = t.contains("dense_cycles");
  std::vector<std::string> fields = {
      std::to_string(r.at("layers").size()),
      std::to_string(t.at("cycles").get<std::uint64_t>()),
      number(t.at("time_ns").get<double>() / 1000.0, 3),
      number(t.at("lane_utilisation").get<double>(), 6),
      dense ? std::to_string(t.at("dense_cycles").get<std::uint64_t>()) : "",
      dense ? number(t.at("speedup_vs_dense").get<double>(), 6) : "",
      std::to_string(macs),
      std::to_string(effectual)};
  for (std::uint64_t c : stalls) fields.push_back(std::to_string(c));
  for (std::uint64_t b : bytes) fields.push_back(std::to_string(b));
  for (double v : energy_csv_values(energy_report_from_json(t.at("energy"))))
    fields.push_back(number(v, 6));
  fields.push_back(number(t.at("energy_per_inference_uj").get<double>(), 6));
  fields.push_back(number(wall_s, 3));
  return fields;
}

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

double point_cost(const SweepSpec& spec, const SweepPoint& point) {
  return cost_of(spec, point.workload, point.act_mode);
}

std::vector<std::size_t> shard_points(const SweepSpec& spec, const Shard& shard) {
  const std::size_t n = spec.point_count();
  std::vector<std::size_t> order(n);
  for (std::size_t p = 0; p < n; ++p) order[p] = p;
  if (shard.count == 1) return order;
  // The cost depends only on the workload (outermost) and the act mode (innermost).
  const std::size_t per_workload = n / spec.workloads.size();
  const std::size_t modes = spec.act_modes.size();
  std::vector<double> cost(n);
  for (std::size_t p = 0; p < n; ++p)
    cost[p] = cost_of(spec, p / per_workload, spec.act_modes[p % modes]);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
  // Min-heap of (load, shard): the least loaded shard, the lower index on ties.
  using Load = std::pair<double, int>;
  std::priority_queue<Load, std::vector<Load>, std::greater<Load>> loads;
  for (int s = 0; s < shard.count; ++s) loads.push({0.0, s});
  std::vector<std::size_t> mine;
  for (std::size_t p : order) {
    Load l = loads.top();
    loads.pop();
    if (l.second == shard.index) mine.push_back(p);
    l.first += cost[p];
    loads.push(l);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

std::string sweep_run_fingerprint(const SweepSpec& spec) {
  std::string text = spec.fingerprint;
  for (const std::string& o : point_run_options(spec)) text += "\n" + o;
  return content_fingerprint(text);
}

std::vector<std::string> sweep_csv_header(const SweepSpec& spec) {
  std::vector<std::string> h = {"point", "workload", "layer", "act_mode", "act_density", "seed"};
  for (const SweepAxis& a : spec.grid) h.push_back(a.key);
  for (const std::string& c : sweep_result_columns()) h.push_back(c);
  return h;
}

std::vector<std::string> shard_csv_columns() { return {"sweep_fingerprint", "shard"}; }

SweepRunResult run_sweep(const SweepSpec& spec, const SweepRunOptions& options) {
  const std::vector<std::size_t> points = shard_points(spec, options.shard);
  const std::string fingerprint = sweep_run_fingerprint(spec);
  SweepRunResult result;
  result.points = points.size();
  result.table.header = sweep_csv_header(spec);
  ScratchDir scratch(options.scratch_parent);
  SweepJournal journal(options.journal,
                       "sweep " + fingerprint + ", shard " + shard_text(options.shard),
                       result.table.header, options.resume);

  std::map<std::size_t, std::vector<std::string>> rows;
  const std::set<std::size_t> in_shard(points.begin(), points.end());
  std::size_t line = 2;
  for (const auto& row : journal.kept_rows()) {
    ++line;
    std::size_t p = 0;
    if (!point_of_row(spec, row, p) || !in_shard.count(p))
      throw Error(journal.path(), "line " + std::to_string(line) + ": '" + row[0] +
                                      "' is not a point of shard " + shard_text(options.shard));
    if (row != rows.emplace(p, row).first->second)
      throw Error(journal.path(), "line " + std::to_string(line) + ": point " + row[0] +
                                      " appears twice with different results");
  }
  result.resumed = rows.size();

  std::vector<SweepPoint> todo;
  std::vector<ProcessJob> jobs;
  for (std::size_t p : points) {
    if (rows.count(p)) continue;
    todo.push_back(spec.point(p));
    const std::string stem = scratch.path + "/point" + std::to_string(p);
    std::ofstream(stem + ".arch.json") << todo.back().arch_json.dump(2) << "\n";
    jobs.push_back({point_command(spec, todo.back(), options.program, stem + ".arch.json",
                                  stem + ".result.json"),
                    stem + ".stderr"});
  }

  ProcessPoolOptions pool;
  pool.parallel = options.parallel;
  pool.stop_after_failure = options.fail_fast;
  std::size_t done = 0;
  pool.on_done = [&](std::size_t j, const ProcessOutcome& o) {
    const SweepPoint& p = todo[j];
    if (o.ok()) {
      nlohmann::json r;
      std::vector<std::string> row = point_fields(spec, p);
      try {
        std::ifstream in(scratch.path + "/point" + std::to_string(p.index) + ".result.json");
        in >> r;
        const std::vector<std::string> results = sweep_result_fields(r, o.wall_seconds);
        row.insert(row.end(), results.begin(), results.end());
      } catch (const nlohmann::json::exception&) {
        result.failures.push_back({p.index, {"pcnn-sim wrote no readable result"}});
        row.clear();
      }
      if (!row.empty()) {
        journal.append(row);
        rows.emplace(p.index, std::move(row));
      }
    } else {
      // The child names its architecture by the scratch file, which is gone.
      const std::string arch_file =
          jobs[j].argv[std::find(jobs[j].argv.begin(), jobs[j].argv.end(), "--arch") -
                       jobs[j].argv.begin() + 1];
      std::vector<std::string> lines = o.error_lines;
      for (std::string& l : lines)
        for (auto at = l.find(arch_file); at != std::string::npos; at = l.find(arch_file))
          l.replace(at, arch_file.size(), "the point's architecture");
      result.failures.push_back({p.index, lines});
    }
    if (options.on_point_done) options.on_point_done(++done, jobs.size());
  };
  const ProcessPoolResult ran = run_processes(jobs, pool);
  result.interrupted_by = ran.interrupted_by;
  for (const ProcessOutcome& o : ran.outcomes)
    if (!o.finished) ++result.not_started;
  std::sort(result.failures.begin(), result.failures.end(),
            [](const SweepFailure& a, const SweepFailure& b) { return a.point < b.point; });
  for (auto& [p, row] : rows) result.table.rows.push_back(std::move(row));
  return result;
}

CsvTable merge_sweep_csv(const SweepSpec& spec, const std::vector<std::string>& files) {
  CsvTable merged;
  merged.header = sweep_csv_header(spec);
  std::vector<std::string> shard_header = merged.header;
  for (const std::string& c : shard_csv_columns()) shard_header.push_back(c);
  const std::string fingerprint = sweep_run_fingerprint(spec);
  std::map<std::size_t, std::vector<std::string>> by_point;
  std::map<int, std::string> shard_file;  // shard index -> the file that holds it
  int shard_count = 0;
  for (const std::string& f : files) {
    CsvTable t = read_csv_file(f);
    if (t.header != shard_header)
      throw Error(f, t.header == merged.header
                         ? "not a shard file (no sweep_fingerprint and shard columns); run the "
                           "sweep with --shard K/N"
                         : "its columns are not those of " + spec.path + " (a different sweep?)");
    std::string file_shard;
    for (auto& row : t.rows) {
      const std::string& fp = row[row.size() - 2];
      const std::string& sh = row.back();
      if (fp != fingerprint)
        throw Error(f, "comes from a different sweep (fingerprint " + fp + ", " + spec.path +
                           " has " + fingerprint +
                           "): the sweep file, its architecture or its "
                           "images changed");
      if (file_shard.empty()) file_shard = sh;
      if (sh != file_shard) throw Error(f, "holds rows of shards " + file_shard + " and " + sh);
    }
    if (t.rows.empty()) continue;
    const Shard shard = parse_shard(file_shard, f + ": shard");
    if (shard_count == 0) shard_count = shard.count;
    if (shard.count != shard_count)
      throw Error(f, "is shard " + file_shard + ", the other files are shards of " +
                         std::to_string(shard_count));
    const auto [it, fresh] = shard_file.emplace(shard.index, f);
    if (!fresh)
      throw Error(f, "shard " + file_shard + " appears again (also in " + it->second + ")");
    const std::vector<std::size_t> own = shard_points(spec, shard);
    const std::set<std::size_t> own_set(own.begin(), own.end());
    for (auto& row : t.rows) {
      std::size_t p = 0;
      if (!point_of_row(spec, row, p) || !own_set.count(p))
        throw Error(f, "point '" + row[0] + "' is not a point of shard " + file_shard);
      if (!by_point.count(p)) {
        row.resize(merged.header.size());
        by_point.emplace(p, std::move(row));
      } else {
        throw Error(f, "point " + std::to_string(p) + " appears in more than one row");
      }
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

namespace {

// A value that goes into an #SBATCH line: sbatch takes it up to white space
// unless quoted, and treats % in file names as a pattern.
void check_sbatch_value(const std::string& value, const std::string& option, bool is_path) {
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || (is_path && (c == '%' || c == '\\')) ||
        (!is_path && c == ' '))
      throw Error(option, "'" + value + "' cannot go into an #SBATCH line (" +
                              (is_path ? "no quotes, %, backslashes or control characters"
                                       : "no spaces, quotes or control characters") +
                              ")");
  }
}

}  // namespace

std::string slurm_array_script(const SweepSpec& spec, const std::string& program,
                               const SlurmOptions& slurm, const std::string& output_stem) {
  if (slurm.shards < 1) throw Error("--shards", "must be at least 1");
  if (slurm.cpus_per_task < 1) throw Error("-j", "must be at least 1");
  const std::string sweep = fs::absolute(spec.path).lexically_normal().string();
  const std::string exe = fs::absolute(program).lexically_normal().string();
  const std::string stem = fs::absolute(output_stem).lexically_normal().string();
  check_sbatch_value(stem, "-o", true);
  const std::pair<const char*, const std::string*> named[] = {{"partition", &slurm.partition},
                                                              {"time", &slurm.time_limit},
                                                              {"mem", &slurm.memory},
                                                              {"account", &slurm.account}};
  for (const auto& [name, value] : named)
    check_sbatch_value(*value, std::string("--") + name, false);
  for (const std::string& e : slurm.extra) {
    check_sbatch_value(e, "--sbatch", true);
    if (e.empty() || e[0] != '-')
      throw Error("--sbatch", "'" + e + "' is not an sbatch option (it starts with -)");
  }
  auto q = [](const std::string& s) {  // single-quoted for the shell
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  const std::string shards = std::to_string(slurm.shards);
  const std::string cpus = std::to_string(slurm.cpus_per_task);
  std::string s;
  s += "#!/bin/bash\n";
  s += "# Slurm job array for the sweep " + sweep + ": " + std::to_string(spec.point_count()) +
       " points in " + shards + " shards balanced by expected cost (sweep " +
       sweep_run_fingerprint(spec) + ").\n";
  s += "# Submit with: sbatch <this file>\n";
  s += "# A task that is cancelled or hits its time limit keeps its finished points in\n";
  s += "# its journal; submitting the array again runs only the missing points.\n";
  s += "# Then merge: " + q(exe) + " sweep " + q(sweep) + " --timing " + to_string(spec.timing) +
       " --merge " + q(stem) + ".*.csv -o " + q(stem + ".csv") + "\n";
  s += "#SBATCH --job-name=pcnn-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(slurm.shards - 1) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + cpus + "\n";
  s += "#SBATCH --output=\"" + stem + ".%A_%a.log\"\n";
  for (const auto& [name, value] : named)
    if (!value->empty()) s += std::string("#SBATCH --") + name + "=" + *value + "\n";
  for (const std::string& e : slurm.extra) s += "#SBATCH " + e + "\n";
  s += "set -euo pipefail\n";
  s += "exec " + q(exe) + " sweep " + q(sweep) + " -j " + cpus + " --timing " +
       to_string(spec.timing) + " --shard \"${SLURM_ARRAY_TASK_ID}/" + shards + "\" --resume -o " +
       q(stem) + "\".${SLURM_ARRAY_TASK_ID}.csv\"\n";
  return s;
}

}  // namespace pcnn
