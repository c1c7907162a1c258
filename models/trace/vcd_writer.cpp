#include "models/trace/vcd_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "pcnn/core/error.hpp"

namespace pcnn {

namespace {
std::string vcd_code(std::size_t index) {
  std::string code;
  do {
    code += static_cast<char>('!' + index % 94);
    index /= 94;
  } while (index > 0);
  return code;
}
}  // namespace

VcdWriter::VcdWriter(const std::string& path, double clock_period_ns, std::uint64_t max_bytes)
    : path_(path), file_(path, "the VCD file"), max_bytes_(max_bytes), period_ns_(clock_period_ns) {
  add("top.clk", 1);  // handle 0
}

VcdWriter::~VcdWriter() = default;  // not closed: the OutputFile discards its temporary

int VcdWriter::add(const std::string& hierarchical_name, int width, const std::string& group,
                   TraceFormat format) {
  Signal s;
  s.group = group;
  s.format = format;
  const auto dot = hierarchical_name.rfind('.');
  s.scope = hierarchical_name.substr(0, dot);
  s.name = hierarchical_name.substr(dot + 1);
  s.width = width;
  s.code = vcd_code(signals_.size());
  signals_.push_back(s);
  return static_cast<int>(signals_.size() - 1);
}

void VcdWriter::write_header() {
  file_.printf("$date pcnn pipeline trace $end\n$version pcnn-sim $end\n");
  file_.printf(
      "$comment one clock cycle = 1 ns of this time axis (cycle N starts at N ns); "
      "the modelled clock period is %.6g ns $end\n",
      period_ns_);
  file_.printf("$timescale 100 ps $end\n");
  // Group signals by scope and open/close nested scopes in sorted order.
  std::vector<std::size_t> order(signals_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return signals_[a].scope < signals_[b].scope;
  });
  std::vector<std::string> open;
  auto split = [](const std::string& scope) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      const auto dot = scope.find('.', start);
      parts.push_back(scope.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  for (std::size_t i : order) {
    const std::vector<std::string> want = split(signals_[i].scope);
    std::size_t common = 0;
    while (common < open.size() && common < want.size() && open[common] == want[common]) ++common;
    while (open.size() > common) {
      file_.printf("$upscope $end\n");
      open.pop_back();
    }
    for (std::size_t k = common; k < want.size(); ++k) {
      file_.printf("$scope module %s $end\n", want[k].c_str());
      open.push_back(want[k]);
    }
    file_.printf("$var wire %d %s %s $end\n", signals_[i].width, signals_[i].code.c_str(),
                 signals_[i].name.c_str());
  }
  while (!open.empty()) {
    file_.printf("$upscope $end\n");
    open.pop_back();
  }
  file_.printf("$enddefinitions $end\n");
  header_written_ = true;
}

void VcdWriter::begin_cycle(std::uint64_t cycle) {
  if (!header_written_) write_header();
  if (file_.bytes_written() > max_bytes_)
    throw Error("--vcd-max-mb", "the trace " + file_.path() + " grew past " +
                                    std::to_string(max_bytes_ >> 20) + " MiB at cycle " +
                                    std::to_string(cycle) +
                                    "; narrow --vcd-window or raise --vcd-max-mb");
  // Ten time steps a cycle. The clock's falling edge of the previous traced
  // cycle goes first, so that time stamps stay in order.
  if (clock_high_written_) {
    file_.printf("#%llu\n", static_cast<unsigned long long>(last_cycle_ * 10 + 5));
    set(0, 0);
  }
  file_.printf("#%llu\n", static_cast<unsigned long long>(cycle * 10));
  set(0, 1);
  clock_high_written_ = true;
  last_cycle_ = cycle;
  for (const auto& probe : probes_) probe();
}

void VcdWriter::set_value_names(int handle, std::vector<std::string> names) {
  signals_[static_cast<std::size_t>(handle)].value_names = std::move(names);
}

std::string VcdWriter::stem() const {
  const std::string ext = ".vcd";
  return path_.size() > ext.size() && path_.compare(path_.size() - ext.size(), ext.size(), ext) == 0
             ? path_.substr(0, path_.size() - ext.size())
             : path_;
}

std::string VcdWriter::save_file_path() const { return stem() + ".gtkw"; }

// The save file names the trace and the filters by absolute path, so that
// `gtkwave trace.gtkw` works from any directory. A trace on standard output or
// a device has no place for them.
void VcdWriter::commit_side_files() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path_ == "-" || (fs::exists(path_, ec) && !fs::is_regular_file(path_, ec))) return;
  auto absolute = [](const std::string& p) { return fs::absolute(p).lexically_normal().string(); };
  std::vector<std::unique_ptr<OutputFile>> files;
  std::vector<GtkwSignal> shown;
  for (const Signal& s : signals_) {
    GtkwSignal g{s.scope + "." + s.name, s.width, s.group, s.format, ""};
    if (!s.value_names.empty()) {
      const std::string filter = stem() + "." + s.name + ".filter";
      files.push_back(std::make_unique<OutputFile>(filter, "the GTKWave filter file"));
      files.back()->write(gtkw_filter_text(s.value_names));
      g.filter_file = absolute(filter);
    }
    shown.push_back(g);
  }
  files.push_back(std::make_unique<OutputFile>(save_file_path(), "the GTKWave save file"));
  files.back()->write(gtkw_save_text(absolute(path_), shown));
  for (auto& f : files) f->commit();
}

void VcdWriter::emit(const Signal& s) {
  if (s.width == 1) {
    file_.printf("%c%s\n", (s.value & 1u) ? '1' : '0', s.code.c_str());
    return;
  }
  char bits[65];
  int len = 0;
  for (int b = s.width - 1; b >= 0; --b) bits[len++] = ((s.value >> b) & 1u) ? '1' : '0';
  bits[len] = '\0';
  // Strip leading zeros (VCD extends left with 0).
  const char* p = bits;
  while (*p == '0' && *(p + 1) != '\0') ++p;
  file_.printf("b%s %s\n", p, s.code.c_str());
}

void VcdWriter::close() {
  if (closed_) return;
  if (!header_written_) write_header();
  if (clock_high_written_) {
    file_.printf("#%llu\n", static_cast<unsigned long long>(last_cycle_ * 10 + 5));
    set(0, 0);
  }
  commit_side_files();
  file_.commit();
  closed_ = true;
}

}  // namespace pcnn
