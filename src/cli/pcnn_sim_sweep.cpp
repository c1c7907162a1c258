// `pcnn-sim sweep SWEEP.json`: runs every point of an architecture sweep as its
// own `pcnn-sim run` process, -j at a time, and writes one CSV row per point;
// --shard runs a slice for a Slurm job array, --merge joins the slices and
// --slurm-script writes the array job.
#include "pcnn_sim_sweep.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "pcnn/core/atomic_file.hpp"
#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/sweep/sweep_runner.hpp"
#include "pcnn/sweep/sweep_spec.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

const char* kSweepUsage =
    "pcnn-sim sweep SWEEP.json [-j N] [-o results.csv] [--shard K/N]\n"
    "  pcnn-sim sweep SWEEP.json --merge SHARD.csv... -o results.csv\n"
    "  pcnn-sim sweep SWEEP.json --slurm-script FILE --shards N [-j N] [-o results.csv]\n"
    "  pcnn-sim sweep SWEEP.json --list";

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
  if (fs::is_directory(file, ec)) throw pcnn::Error(option, "'" + file + "' is a directory, not a file");
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
  for (std::size_t i : shown) std::printf("%-*s ", i == shown[1] ? 16 : 12, t.header[i].c_str());
  std::printf("\n");
  for (const auto& row : t.rows) {
    for (std::size_t i : shown) std::printf("%-*s ", i == shown[1] ? 16 : 12, row[i].c_str());
    std::printf("\n");
  }
}

}  // namespace

int sweep_command(int argc, char** argv) {
  std::string sweep_path, output = "results.csv", shard_text, slurm_path;
  std::vector<std::string> merge_files;
  int parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int shards = 0;
  po::options_description visible(std::string("Usage:\n  ") + kSweepUsage + "\n\nOptions");
  visible.add_options()
      ("help,h", "show this help")
      ("jobs,j", po::value(&parallel), "points simulated at a time, each in its own process (default: cores)")
      ("output,o", po::value(&output), "CSV file of results, one row per point (default results.csv)")
      ("shard", po::value(&shard_text), "run only shard K of N: the points p with p % N == K")
      ("merge", po::value(&merge_files)->multitoken(), "merge the CSV files of all shards into -o")
      ("slurm-script", po::value(&slurm_path), "write an sbatch job-array script instead of running")
      ("shards", po::value(&shards), "number of array tasks for --slurm-script")
      ("list", "print the points and exit");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "sweep", sweep_path);
  if (vm.count("help")) {
    std::cout << visible;
    return 0;
  }
  if (vm.count("version")) return pcnn::print_version("pcnn-sim");
  if (sweep_path.empty()) throw pcnn::UsageError("command line", "no SWEEP.json given (see --help)");
  if (parallel < 1 || parallel > 1024) throw pcnn::UsageError("-j", "must be in 1..1024");
  const int modes = static_cast<int>(vm.count("merge")) + static_cast<int>(vm.count("slurm-script")) +
                    static_cast<int>(vm.count("list"));
  if (modes > 1) throw pcnn::UsageError("command line", "--merge, --slurm-script and --list exclude each other");
  if (vm.count("shard") && modes > 0)
    throw pcnn::UsageError("--shard", "only applies when running points");
  if (vm.count("shards") && !vm.count("slurm-script"))
    throw pcnn::UsageError("--shards", "needs --slurm-script FILE");

  const pcnn::SweepSpec spec = pcnn::read_sweep_file(sweep_path);

  if (vm.count("list")) {
    for (std::size_t i = 0; i < spec.point_count(); ++i) {
      const pcnn::SweepPoint p = spec.point(i);
      std::printf("%zu %s", i, spec.workloads[p.workload].name.c_str());
      for (const auto& [key, value] : p.params) std::printf(" %s=%s", key.c_str(), value.dump().c_str());
      std::printf(" act_mode=%s\n", pcnn::to_string(p.act_mode));
    }
    return 0;
  }
  if (vm.count("slurm-script")) {
    if (!vm.count("shards")) throw pcnn::UsageError("--slurm-script", "needs --shards N");
    require_writable_dir(output, "-o");  // Slurm needs the log and result directory to exist
    if (shards < 1 || static_cast<std::size_t>(shards) > spec.point_count())
      throw pcnn::UsageError("--shards", "must be in 1.." + std::to_string(spec.point_count()) +
                                        " (the sweep's points)");
    const std::string script =
        pcnn::slurm_array_script(spec, this_program(), shards, parallel, csv_stem(output));
    pcnn::write_file_atomically(slurm_path, script, "the Slurm script");
    std::printf("wrote %s: %zu points in %d array tasks; submit with: sbatch %s\n",
                slurm_path.c_str(), spec.point_count(), shards, slurm_path.c_str());
    return 0;
  }
  require_writable_dir(output, "-o");
  if (vm.count("merge")) {
    if (!vm.count("output")) throw pcnn::UsageError("--merge", "needs -o FILE for the merged results");
    const pcnn::CsvTable merged = pcnn::merge_sweep_csv(spec, merge_files);
    pcnn::write_csv_file(output, merged);
    std::printf("merged %zu files: %zu points -> %s\n", merge_files.size(), merged.rows.size(),
                output.c_str());
    return 0;
  }

  pcnn::SweepRunOptions options;
  options.program = this_program();
  options.parallel = parallel;
  if (vm.count("shard")) {
    try {
      options.shard = pcnn::parse_shard(shard_text, "--shard");
    } catch (const pcnn::Error& e) {
      throw pcnn::UsageError(e.what());
    }
  }
  options.scratch_parent = parent_dir(output);
  if (isatty(STDERR_FILENO))
    options.on_point_done = [](std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\r%zu/%zu points", done, total);
      if (done == total) std::fprintf(stderr, "\r%*s\r", 30, "");
    };
  const auto t0 = std::chrono::steady_clock::now();
  const pcnn::CsvTable table = pcnn::run_sweep(spec, options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pcnn::write_csv_file(output, table);
  print_table(table, spec.grid.size());
  std::printf("%zu of %zu points in %.2f s with -j %d -> %s\n", table.rows.size(),
              spec.point_count(), wall, parallel, output.c_str());
  return 0;
}
