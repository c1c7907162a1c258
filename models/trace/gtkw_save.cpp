#include "models/trace/gtkw_save.hpp"

#include <cstdio>

namespace pcnn {

namespace {

// GTKWave's trace flags (its TR_* constants): right-justified values in a base,
// blank comment lines that open and close a group, translate filter in use.
constexpr unsigned kRightJustify = 0x20, kHex = 0x02, kDecimal = 0x04, kBinary = 0x08,
                   kSigned = 0x400, kBlank = 0x200, kFileTranslated = 0x2000,
                   kGroupBegin = 0x800000, kGroupEnd = 0x1000000;

unsigned flags(const GtkwSignal& s) {
  unsigned f = kRightJustify;
  if (s.width == 1) return f | kBinary;
  switch (s.format) {
    case TraceFormat::binary:
      f |= kBinary;
      break;
    case TraceFormat::hex:
      f |= kHex;
      break;
    case TraceFormat::decimal:
      f |= kDecimal;
      break;
    case TraceFormat::signed_decimal:
      f |= kDecimal | kSigned;
      break;
  }
  if (!s.filter_file.empty()) f |= kFileTranslated;
  return f;
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

}  // namespace

std::string gtkw_save_text(const std::string& vcd_file, const std::vector<GtkwSignal>& signals) {
  std::string out = "[*] pcnn-sim pipeline trace: open with  gtkwave <trace>.vcd <trace>.gtkw\n";
  out += "[dumpfile] \"" + vcd_file + "\"\n";
  out += "[timestart] 0\n[size] 1600 1300\n[pos] -1 -1\n[sst_width] 260\n[signals_width] 330\n";
  out += "[sst_expanded] 1\n[sst_vpaned_height] 250\n";
  std::vector<std::string> groups;  // in order of appearance
  for (const GtkwSignal& s : signals) {
    bool seen = false;
    for (const std::string& g : groups) seen = seen || g == s.group;
    if (!seen) groups.push_back(s.group);
  }
  int filters = 0;
  for (const std::string& g : groups) {
    if (!g.empty()) out += "@" + hex(kBlank | kGroupBegin) + "\n-" + g + "\n";
    for (const GtkwSignal& s : signals) {
      if (s.group != g) continue;
      if (!s.filter_file.empty())
        out += "^" + std::to_string(++filters) + " " + s.filter_file + "\n";
      out += "@" + hex(flags(s)) + "\n" + s.name;
      if (s.width > 1) out += "[" + std::to_string(s.width - 1) + ":0]";
      out += "\n";
    }
    if (!g.empty()) out += "@" + hex(kBlank | kGroupEnd) + "\n-" + g + "\n";
  }
  out += "[pattern_trace] 1\n[pattern_trace] 0\n";
  return out;
}

std::string gtkw_filter_text(const std::vector<std::string>& value_names) {
  std::string out;
  for (std::size_t v = 0; v < value_names.size(); ++v)
    out += std::to_string(v) + " " + value_names[v] + "\n";
  return out;
}

}  // namespace pcnn
