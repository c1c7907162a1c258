#pragma once
// A small VCD writer for the pipeline trace. SystemC's sc_trace samples every
// traced object at every delta cycle for the whole run and cannot be limited to
// a window; this writer records only value changes, only while the owner says
// the current cycle is inside the window, so tracing costs nothing outside it.
// Signals are registered with hierarchical names ("top.pe_group.stage1.valid")
// and written through pcnn::OutputFile: the file appears whole on close().
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/core/output_file.hpp"

namespace pcnn {

class VcdWriter {
 public:
  // Opens the output; throws pcnn::Error(path, ...) if it cannot.
  VcdWriter(const std::string& path, double clock_period_ns);
  ~VcdWriter();
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  // Before the first sample: register a signal, get its handle.
  int add(const std::string& hierarchical_name, int width);

  // Starts cycle `cycle` (writes the header on first use).
  void begin_cycle(std::uint64_t cycle);
  void set(int handle, std::uint64_t value) {
    Signal& s = signals_[handle];
    if (s.written && s.value == value) return;
    s.value = value;
    s.written = true;
    emit(s);
  }
  // Writes the last edge and commits the file; throws on I/O failure.
  void close();

 private:
  struct Signal {
    std::string scope;  // "top.pe_group.stage1"
    std::string name;   // "valid"
    std::string code;   // VCD identifier
    int width = 1;
    std::uint64_t value = 0;
    bool written = false;
  };
  void write_header();
  void emit(const Signal& s);

  OutputFile file_;
  bool closed_ = false;
  double period_ps_;
  std::vector<Signal> signals_;
  bool header_written_ = false;
  bool clock_high_written_ = false;
  std::uint64_t last_cycle_ = 0;
};

}  // namespace pcnn
