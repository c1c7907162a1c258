#pragma once
// What pcnn-sim's commands (run, run --network, golden, eval, sweep) have in
// common on the command line: the options they share, with one help text and
// one check each, --help and --version, the reading of --arch and --act-mode,
// and the progress line. A command adds the options in its own order, so its
// --help keeps its layout.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "pcnn/core/output_file.hpp"  // RunPath
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/sim_types.hpp"

// IMAGES_DIR and the options of a whole network run on one input
// (`pcnn-sim golden` and `pcnn-sim run --network`).
struct NetworkCommandLine {
  std::string images_dir;
  std::string input_path;        // --input FILE
  std::string output_path;       // --output FILE.npy (its scale in FILE.npy.json)
  std::string dump_dir;          // --dump-layers DIR
  std::string input_shape_text;  // --input-shape NxCxHxW
  int top = 5;                   // --top: classes printed for a classifier

  void add_input(boost::program_options::options_description& visible);
  void add_output_and_dump_layers(boost::program_options::options_description& visible);
  void add_top(boost::program_options::options_description& visible);
  void add_input_shape(boost::program_options::options_description& visible);

  // After parsing: IMAGES_DIR and --input given (else `input_missing` is the
  // message about --input), --top at least 1. Throws pcnn::UsageError.
  void check_given(const std::string& input_missing) const;
  // Before any work: the files of --output (FILE and FILE.json), then `more`
  // (a command's other outputs), can be written, and the --dump-layers folder
  // is new or empty. Returns them all for pcnn::check_outputs_apart().
  std::vector<pcnn::RunPath> check_outputs(std::vector<pcnn::RunPath> more = {}) const;
};

// UsageError("command line", "no IMAGES_DIR given ...") when it is empty.
void require_images_dir(const std::string& images_dir);

void add_act_mode_option(boost::program_options::options_description& visible, std::string& text);
void add_max_cycles_option(boost::program_options::options_description& visible,
                           std::uint64_t& max_cycles);

// The --act-mode and --timing values; a bad one is a pcnn::UsageError.
pcnn::ActMode act_mode_option(const std::string& text);
pcnn::Timing timing_option(const std::string& text);

// The architecture of --arch (the paper's defaults without it); the file's
// name goes into `options` so that the simulator's errors can name it.
pcnn::ArchConfig read_arch_option(const std::string& arch_path, pcnn::SimOptions& options);

// A progress callback that keeps "done/total `unit`" on one line of stderr
// and clears it at the end; empty (no progress) when stderr is no terminal.
// `unit` is kept as a pointer: pass a string literal.
std::function<void(std::size_t done, std::size_t total)> terminal_progress(const char* unit);
