#pragma once
// GTKWave save file (.gtkw) for a trace written by VcdWriter: the signals in
// named groups, each with its display format, and translate filter files that
// show an enumerated signal's values as names. `gtkwave trace.vcd trace.gtkw`
// opens the trace with everything in place (docs/vcd-gtkwave.md).
#include <string>
#include <vector>

namespace pcnn {

enum class TraceFormat { binary, hex, decimal, signed_decimal };

struct GtkwSignal {
  std::string name;  // hierarchical, "top.pe_group.stage1.valid"
  int width = 1;
  std::string group;  // "" = before the first group
  TraceFormat format = TraceFormat::hex;
  std::string filter_file;  // translate filter for this signal's values, or ""
};

// The save file's text. Signals keep their order within a group; groups come in
// the order of their first signal.
std::string gtkw_save_text(const std::string& vcd_file, const std::vector<GtkwSignal>& signals);

// A translate filter file: one line "<decimal value> <name>" per name.
std::string gtkw_filter_text(const std::vector<std::string>& value_names);

}  // namespace pcnn
