// `pcnn-sim sweep SWEEP.json`: runs every point of an architecture sweep as its
// own `pcnn-sim run` process, -j at a time, and writes one CSV row per point;
// --shard runs a slice for a Slurm job array, --merge joins the slices and
// --slurm-script writes the array job.
#include "pcnn_sim_sweep.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/printable.hpp"
#include "pcnn/sweep/sweep_journal.hpp"
#include "pcnn/sweep/sweep_runner.hpp"
#include "pcnn/sweep/sweep_spec.hpp"
#include "pcnn_sim_options.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

const char* kSweepUsage =
    "pcnn-sim sweep SWEEP.json [-j N] [-o results.csv] [--shard K/N] [--resume] [--fail-fast]\n"
    "  pcnn-sim sweep SWEEP.json --merge SHARD.csv... -o results.csv\n"
    "  pcnn-sim sweep SWEEP.json --slurm-script FILE --shards N [-j N] [-o results.csv]\n"
    "      [--partition P] [--time T] [--mem M] [--account A] [--sbatch OPTION]...\n"
    "  pcnn-sim sweep SWEEP.json --list [--shard K/N]";

std::string this_program() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw pcnn::Error("pcnn-sim", "cannot find its own executable for the sweep points");
  return p.string();
}

std::string parent_dir(const std::string& file) {
  const fs::path parent = fs::path(file).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Fail before hours of simulation, not after.
void require_writable_dir(const std::string& file, const std::string& option) {
  std::error_code ec;
  if (fs::is_directory(file, ec))
    throw pcnn::Error(option, "'" + file + "' is a directory, not a file");
  const std::string dir = parent_dir(file);
  if (access(dir.c_str(), W_OK) != 0)
    throw pcnn::Error(option, "cannot write into directory '" + dir + "' for " + file);
}

std::string csv_stem(const std::string& csv) {
  return csv.size() > 4 && csv.compare(csv.size() - 4, 4, ".csv") == 0
             ? csv.substr(0, csv.size() - 4)
             : csv;
}

void print_table(const pcnn::CsvTable& t, std::size_t grid_axes) {
  // point, workload, act_mode, the grid values, cycles, speedup, wall.
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < t.header.size(); ++i)
      if (t.header[i] == name) return i;
    return t.header.size();
  };
  std::vector<std::size_t> shown = {col("point"), col("workload"), col("act_mode")};
  for (std::size_t a = 0; a < grid_axes; ++a) shown.push_back(6 + a);
  for (const char* c : {"cycles", "lane_utilisation", "speedup_vs_dense", "wall_s"})
    shown.push_back(col(c));
  for (std::size_t i : shown)
    std::printf("%-*s ", i == shown[1] ? 16 : 12, pcnn::printable(t.header[i]).c_str());
  std::printf("\n");
  for (const auto& row : t.rows) {
    for (std::size_t i : shown)
      std::printf("%-*s ", i == shown[1] ? 16 : 12, pcnn::printable(row[i]).c_str());
    std::printf("\n");
  }
}

std::string scratch_parent() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

// A failed point's own error lines, each as "<point label>: <line>" without the
// child's "pcnn-sim: " prefix.
void print_failures(const pcnn::SweepSpec& spec, const pcnn::SweepRunResult& r) {
  for (const pcnn::SweepFailure& f : r.failures) {
    const std::string label = spec.label(spec.point(f.point));
    for (std::string line : f.error_lines) {
      if (line.rfind("pcnn-sim: ", 0) == 0) line.erase(0, 10);
      std::fprintf(stderr, "pcnn-sim: %s\n", pcnn::Error(label, line).what());
    }
  }
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

int run_points(const pcnn::SweepSpec& spec, pcnn::SweepRunOptions options, bool sharded,
               const std::string& output) {
  // The journal goes beside the output: a device, a FIFO or stdout has no "beside".
  struct stat st;
  if (output == "-" || (stat(output.c_str(), &st) == 0 && !S_ISREG(st.st_mode)))
    throw pcnn::UsageError("-o", "'" + output +
                                     "' is not a file; a running sweep keeps its finished rows in "
                                     "OUTPUT.journal beside its CSV file");
  options.program = this_program();
  options.journal = pcnn::sweep_journal_path(output);
  options.scratch_parent = scratch_parent();
  options.on_point_done = terminal_progress("points");
  const auto t0 = std::chrono::steady_clock::now();
  pcnn::SweepRunResult r = pcnn::run_sweep(spec, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string& journal = options.journal;
  if (r.table.rows.empty()) pcnn::remove_sweep_journal(journal);  // it holds nothing to resume
  const std::string kept = plural(r.table.rows.size(), "finished point is", "finished points are");

  if (r.interrupted_by) {
    std::fprintf(
        stderr,
        "pcnn-sim: %s: stopped by %s; %s kept%s; run the same command with --resume to finish\n",
        pcnn::printable(spec.path).c_str(), strsignal(r.interrupted_by), kept.c_str(),
        r.table.rows.empty() ? "" : (" in " + pcnn::printable(journal)).c_str());
    return 128 + r.interrupted_by;
  }
  print_failures(spec, r);
  if (!r.failures.empty() && options.fail_fast) {
    std::fprintf(
        stderr,
        "pcnn-sim: %s: stopped after the first failure (--fail-fast); %s not run; %s kept%s\n",
        pcnn::printable(spec.path).c_str(),
        plural(r.not_started, "point was", "points were").c_str(), kept.c_str(),
        r.table.rows.empty()
            ? ""
            : (" in " + pcnn::printable(journal) + " (--resume continues)").c_str());
    return 1;
  }

  pcnn::CsvTable out = r.table;
  if (sharded) {
    for (const std::string& c : pcnn::shard_csv_columns()) out.header.push_back(c);
    const std::string fp = pcnn::sweep_run_fingerprint(spec);
    const std::string shard =
        std::to_string(options.shard.index) + "/" + std::to_string(options.shard.count);
    for (auto& row : out.rows) row.insert(row.end(), {fp, shard});
  }
  pcnn::write_csv_file(output, out);
  if (r.failures.empty()) {
    pcnn::remove_sweep_journal(journal);
    print_table(r.table, spec.grid.size());
    std::printf("%zu of %zu points in %.2f s with -j %d%s -> %s\n", r.table.rows.size(), r.points,
                wall, options.parallel,
                r.resumed ? (" (" + std::to_string(r.resumed) + " from the journal)").c_str() : "",
                output.c_str());
    return 0;
  }
  std::fprintf(
      stderr, "pcnn-sim: %s: %zu of %zu points failed; %s written to %s%s\n",
      pcnn::printable(spec.path).c_str(), r.failures.size(), r.points,
      plural(r.table.rows.size(), "good row", "good rows").c_str(), pcnn::printable(output).c_str(),
      r.table.rows.empty()
          ? ""
          : (" and kept in " + pcnn::printable(journal) + " (--resume runs only the failed points)")
                .c_str());
  return 1;
}

}  // namespace

int sweep_command(int argc, char** argv) {
  std::string sweep_path, output = "results.csv", shard_text, slurm_path, timing_text = "lt";
  std::vector<std::string> merge_files;
  int parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pcnn::SlurmOptions slurm;
  slurm.shards = 0;
  po::options_description visible(std::string("Usage:\n  ") + kSweepUsage + "\n\nOptions");
  visible.add_options()("help,h", "show this help")(
      "jobs,j", po::value(&parallel),
      "points simulated at a time, each in its own process (default: cores; 1 for --slurm-script, "
      "where it is also each task's CPU count)")(
      "output,o", po::value(&output),
      "CSV file of results, one row per point (default results.csv); finished rows are kept in "
      "OUTPUT.journal until the sweep is complete")(
      "resume",
      "continue from OUTPUT.journal: run only the points it does not hold (refused when the sweep "
      "changed)")("fail-fast", "start no point after the first failure and write no CSV")(
      "shard", po::value(&shard_text),
      "run (or --list) only shard K of N; shards are balanced by expected cost")(
      "merge", po::value(&merge_files)->multitoken(), "merge the CSV files of all shards into -o")(
      "slurm-script", po::value(&slurm_path),
      "write an sbatch job-array script instead of running")(
      "shards", po::value(&slurm.shards), "number of array tasks for --slurm-script")(
      "partition", po::value(&slurm.partition), "--slurm-script: #SBATCH --partition")(
      "time", po::value(&slurm.time_limit), "--slurm-script: #SBATCH --time, each task's limit")(
      "mem", po::value(&slurm.memory), "--slurm-script: #SBATCH --mem, each task's memory")(
      "account", po::value(&slurm.account), "--slurm-script: #SBATCH --account")(
      "sbatch", po::value(&slurm.extra),
      "--slurm-script: a further #SBATCH option, e.g. --sbatch=--qos=long (repeatable)")(
      "list", "print the points and exit")(
      "timing", po::value(&timing_text)->default_value("lt"),
      "how each point is clocked: lt (fast mode, the default; same results) or cycle");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "sweep", sweep_path);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-sim")) return 0;
  if (sweep_path.empty())
    throw pcnn::UsageError("command line", "no SWEEP.json given (see --help)");
  if (vm.count("slurm-script") && !vm.count("jobs")) parallel = 1;
  if (parallel < 1 || parallel > 1024) throw pcnn::UsageError("-j", "must be in 1..1024");
  const int modes = static_cast<int>(vm.count("merge")) +
                    static_cast<int>(vm.count("slurm-script")) + static_cast<int>(vm.count("list"));
  if (modes > 1)
    throw pcnn::UsageError("command line", "--merge, --slurm-script and --list exclude each other");
  if (vm.count("shard") && (vm.count("merge") || vm.count("slurm-script")))
    throw pcnn::UsageError("--shard", "only applies when running or listing points");
  for (const char* o : {"resume", "fail-fast"})
    if (vm.count(o) && modes > 0)
      throw pcnn::UsageError(std::string("--") + o, "only applies when running points");
  for (const char* o : {"shards", "partition", "time", "mem", "account", "sbatch"})
    if (vm.count(o) && !vm.count("slurm-script"))
      throw pcnn::UsageError(std::string("--") + o, "needs --slurm-script FILE");
  require_writable_dir(output, "-o");
  std::vector<pcnn::RunPath> inputs{{sweep_path, "SWEEP.json"}};
  for (const std::string& m : merge_files) inputs.push_back({m, "--merge"});
  std::vector<pcnn::RunPath> outputs{{output, "-o"}};
  if (vm.count("slurm-script")) outputs.push_back({slurm_path, "--slurm-script"});
  pcnn::check_outputs_apart(inputs, outputs);

  pcnn::Timing timing = pcnn::Timing::lt;
  try {
    timing = pcnn::parse_timing(timing_text);
  } catch (const pcnn::Error& e) {
    throw pcnn::UsageError(e.what());
  }
  pcnn::SweepSpec spec = pcnn::read_sweep_file(sweep_path);
  spec.timing = timing;
  pcnn::SweepRunOptions options;
  options.parallel = parallel;
  if (vm.count("shard")) {
    try {
      options.shard = pcnn::parse_shard(shard_text, "--shard");
    } catch (const pcnn::Error& e) {
      throw pcnn::UsageError(e.what());
    }
  }

  if (vm.count("list")) {
    for (std::size_t i : pcnn::shard_points(spec, options.shard)) {
      const pcnn::SweepPoint p = spec.point(i);
      std::printf("%zu %s", i, pcnn::printable(spec.workloads[p.workload].name).c_str());
      for (const auto& [key, value] : p.params)
        std::printf(" %s=%s", pcnn::printable(key).c_str(), pcnn::printable(value.dump()).c_str());
      std::printf(" act_mode=%s\n", pcnn::to_string(p.act_mode));
    }
    return 0;
  }
  if (vm.count("slurm-script")) {
    if (!vm.count("shards")) throw pcnn::UsageError("--slurm-script", "needs --shards N");
    require_writable_dir(output, "-o");  // Slurm needs the log and result directory to exist
    if (slurm.shards < 1 || static_cast<std::size_t>(slurm.shards) > spec.point_count())
      throw pcnn::UsageError("--shards", "must be in 1.." + std::to_string(spec.point_count()) +
                                             " (the sweep's points)");
    slurm.cpus_per_task = parallel;
    const std::string script =
        pcnn::slurm_array_script(spec, this_program(), slurm, csv_stem(output));
    pcnn::write_output_file(slurm_path, script, "the Slurm script");
    const std::string shown_path = pcnn::printable(slurm_path);
    std::printf("wrote %s: %zu points in %d array tasks of %d CPUs; submit with: sbatch %s\n",
                shown_path.c_str(), spec.point_count(), slurm.shards, parallel, shown_path.c_str());
    return 0;
  }
  require_writable_dir(output, "-o");
  if (vm.count("merge")) {
    if (!vm.count("output"))
      throw pcnn::UsageError("--merge", "needs -o FILE for the merged results");
    const pcnn::CsvTable merged = pcnn::merge_sweep_csv(spec, merge_files);
    pcnn::write_csv_file(output, merged);
    std::printf("merged %zu files: %zu points -> %s\n", merge_files.size(), merged.rows.size(),
                pcnn::printable(output).c_str());
    return 0;
  }
  options.resume = vm.count("resume") > 0;
  options.fail_fast = vm.count("fail-fast") > 0;
  return run_points(spec, options, vm.count("shard") > 0, output);
}
