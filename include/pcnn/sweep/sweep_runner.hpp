#pragma once
// Runs the points of a sweep as `pcnn-sim run` child processes in parallel and
// gathers one CSV row per point; merges the CSV files of Slurm shards; writes
// the Slurm array script. See docs/sweeps.md.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "pcnn/sweep/csv_table.hpp"
#include "pcnn/sweep/sweep_spec.hpp"

namespace pcnn {

struct Shard {
  int index = 0;  // 0 .. count - 1
  int count = 1;
};
// "K/N" with 0 <= K < N; throws pcnn::Error naming `option`.
Shard parse_shard(const std::string& text, const std::string& option);
// The points of a shard: every point p with p % count == index.
std::vector<std::size_t> shard_points(const SweepSpec& spec, const Shard& shard);

struct SweepRunOptions {
  std::string program;  // the pcnn-sim executable the points run in
  int parallel = 1;     // child processes at a time
  Shard shard;
  std::string scratch_parent = ".";  // a scratch directory is made (and removed) here
  std::function<void(std::size_t, std::size_t)> on_point_done;
};

// The CSV columns of a sweep: point identity, the grid parameters, then results.
std::vector<std::string> sweep_csv_header(const SweepSpec& spec);

// Runs the shard's points; rows in point order. A failing point stops the
// sweep: throws pcnn::Error("<sweep>: point N (...): <the child's error>").
CsvTable run_sweep(const SweepSpec& spec, const SweepRunOptions& options);

// Merges shard CSV files of this sweep: same header, no point twice, every
// point present; throws pcnn::Error naming the file or the missing points.
CsvTable merge_sweep_csv(const SweepSpec& spec, const std::vector<std::string>& files);

// An sbatch script running the sweep as a Slurm job array of `shards` tasks,
// each writing "<output_stem>.<task>.csv", with the merge command in a comment.
std::string slurm_array_script(const SweepSpec& spec, const std::string& program, int shards,
                               int cpus_per_task, const std::string& output_stem);

}  // namespace pcnn
