#pragma once
// Runs the points of a sweep as `pcnn-sim run` child processes in parallel and
// gathers one CSV row per point; merges the CSV files of Slurm shards; writes
// the Slurm array script. See docs/sweeps.md.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pcnn/sweep/csv_table.hpp"
#include "pcnn/sweep/sweep_spec.hpp"

namespace pcnn {

struct Shard {
  int index = 0;  // 0 .. count - 1
  int count = 1;
};
// "K/N" with 0 <= K < N; throws pcnn::Error naming `option`.
Shard parse_shard(const std::string& text, const std::string& option);

// The expected CPU seconds of a point (docs/sweeps.md, "Balance"): a fixed cost
// per process, the stored MACs times a cost per MAC of the sweep's timing mode
// and the point's act mode, and with the dense baseline the dense MACs times
// theirs (constants measured by bench/bench_sweep_cost.cpp).
double point_cost(const SweepSpec& spec, const SweepPoint& point);
// The points of a shard, ascending. Points are dealt by expected cost, most
// expensive first, each to the shard with the least cost so far (longest
// processing time first); ties go to the lower point and shard, so every
// array task computes the same split.
std::vector<std::size_t> shard_points(const SweepSpec& spec, const Shard& shard);

// What a journal or a shard file belongs to: the sweep's fingerprint combined
// with the options every point runs with (16 hex digits).
std::string sweep_run_fingerprint(const SweepSpec& spec);

struct SweepRunOptions {
  std::string program;  // the pcnn-sim executable the points run in
  int parallel = 1;     // child processes at a time
  Shard shard;
  bool fail_fast = false;  // start nothing after the first failure
  bool resume = false;     // continue from an existing journal
  std::string journal;     // the journal file (sweep_journal_path of the output)
  // A scratch directory for the points' files is made (and removed) here.
  std::string scratch_parent = "/tmp";
  std::function<void(std::size_t done, std::size_t total)> on_point_done;
};

struct SweepFailure {
  std::size_t point = 0;
  std::vector<std::string> error_lines;  // the point's own standard error
};

struct SweepRunResult {
  CsvTable table;                      // every good row of the shard, point order
  std::vector<SweepFailure> failures;  // in point order
  std::size_t points = 0;              // the shard's points
  std::size_t resumed = 0;             // rows taken over from the journal
  std::size_t not_started = 0;         // points --fail-fast or a signal kept from starting
  int interrupted_by = 0;              // SIGINT, SIGTERM or SIGHUP, or 0
};

// The CSV columns of a sweep: point identity, the grid parameters, then results.
std::vector<std::string> sweep_csv_header(const SweepSpec& spec);
// The result columns of a point (after its identity and grid parameters): the
// run's totals, stall cycles by reason, bytes per memory and the energy columns,
// named by the statistics schema (stats_schema.hpp), and the energy per
// inference and wall_s. sweep_result_fields() fills them from a
// `pcnn-sim run --json` result and the point's wall time.
std::vector<std::string> sweep_result_columns();
std::vector<std::string> sweep_result_fields(const nlohmann::json& run_result, double wall_s);
// The two columns a shard's CSV adds: the run fingerprint and "K/N".
std::vector<std::string> shard_csv_columns();

// Runs the shard's points that the journal does not hold yet, keeping each
// finished row in the journal as soon as the point ends. A failing point does
// not stop the others unless fail_fast. Throws pcnn::Error for a bad journal
// or when the journal cannot be written (the rows kept so far stay).
SweepRunResult run_sweep(const SweepSpec& spec, const SweepRunOptions& options);

// Merges the shard CSV files of this sweep: every file must carry this sweep's
// fingerprint and one shard index, each shard at most once, each row a point
// of its shard, every point present; throws pcnn::Error naming the file.
CsvTable merge_sweep_csv(const SweepSpec& spec, const std::vector<std::string>& files);

// Options of the generated Slurm script beyond the array itself.
struct SlurmOptions {
  int shards = 1;
  int cpus_per_task = 1;   // also the -j of each task
  std::string partition;   // each optional: "" leaves the line out
  std::string time_limit;  // e.g. "02:00:00"
  std::string memory;      // e.g. "4G"
  std::string account;
  std::vector<std::string> extra;  // further options, one #SBATCH line each
};

// An sbatch script running the sweep as a Slurm job array of `shards` tasks,
// each writing "<output_stem>.<task>.csv" (resuming its own journal when the
// task is run again), with the merge command in a comment. Throws
// pcnn::Error for values that cannot go into an #SBATCH line.
std::string slurm_array_script(const SweepSpec& spec, const std::string& program,
                               const SlurmOptions& slurm, const std::string& output_stem);

}  // namespace pcnn
