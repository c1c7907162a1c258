#pragma once
// A small VCD writer for the pipeline trace. SystemC's sc_trace samples every
// traced object at every delta cycle for the whole run and cannot be limited to
// a window; this writer records only value changes, only while the owner says
// the current cycle is inside the window, so tracing costs nothing outside it.
// Signals are registered with hierarchical names ("top.pe_group.stage1.valid")
// and written through pcnn::OutputFile: the file appears whole on close().
//
// Time: one clock cycle is 1 ns on the VCD's time axis (timescale 100 ps, ten
// steps a cycle), so cycle N starts at N ns and the clock falls at N.5 ns,
// whatever the modelled clock; the real period is in the header's $comment.
//
// Beside the trace, close() writes <stem>.gtkw, a GTKWave save file with the
// signals grouped and formatted as registered, and one translate filter file
// <stem>.<signal>.filter per signal with value names (<stem> is the path
// without ".vcd"; none for a trace written to "-" or a device).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/trace/gtkw_save.hpp"
#include "pcnn/core/output_file.hpp"

namespace pcnn {

class VcdWriter {
 public:
  // Opens the output; throws pcnn::Error(path, ...) if it cannot.
  // The trace may grow to max_bytes; beyond that begin_cycle() throws.
  VcdWriter(const std::string& path, double clock_period_ns,
            std::uint64_t max_bytes = std::uint64_t{1} << 30);
  ~VcdWriter();
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  // Before the first sample: register a signal, get its handle. `group` and
  // `format` are how the save file shows it.
  int add(const std::string& hierarchical_name, int width, const std::string& group = "",
          TraceFormat format = TraceFormat::hex);
  // Names of the values 0, 1, ... of a signal, shown instead of the numbers.
  void set_value_names(int handle, std::vector<std::string> names);
  // Called at every traced cycle after the clock, to sample state that is not the
  // caller's own (the DRAM channel, the host's buffers) with set().
  void add_probe(std::function<void()> probe) { probes_.push_back(std::move(probe)); }

  // Starts cycle `cycle` (writes the header on first use).
  void begin_cycle(std::uint64_t cycle);
  void set(int handle, std::uint64_t value) {
    Signal& s = signals_[handle];
    if (s.written && s.value == value) return;
    s.value = value;
    s.written = true;
    emit(s);
  }
  // Writes the last edge and commits the file, the save file and the filters;
  // throws on I/O failure.
  void close();

  std::string save_file_path() const;  // <stem>.gtkw

 private:
  struct Signal {
    std::string scope;  // "top.pe_group.stage1"
    std::string name;   // "valid"
    std::string code;   // VCD identifier
    int width = 1;
    std::uint64_t value = 0;
    bool written = false;
    std::string group;
    TraceFormat format = TraceFormat::hex;
    std::vector<std::string> value_names;
  };
  void write_header();
  void emit(const Signal& s);
  std::string stem() const;
  void commit_side_files();

  std::string path_;
  OutputFile file_;
  std::uint64_t max_bytes_;
  bool closed_ = false;
  double period_ns_;
  std::vector<std::function<void()>> probes_;
  std::vector<Signal> signals_;
  bool header_written_ = false;
  bool clock_high_written_ = false;
  std::uint64_t last_cycle_ = 0;
};

}  // namespace pcnn
