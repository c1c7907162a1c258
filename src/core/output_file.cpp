#include "pcnn/core/output_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace fs = std::filesystem;
namespace {

std::string errno_text(int e) { return std::strerror(e); }

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Follows symlinks in the last component only (folders may be links: a rename
// inside a linked folder works), so that a link is written through, not replaced.
std::string resolve_final_links(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::vector<char> buf(PATH_MAX + 1);
    const ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) throw Error(path, "cannot read the symlink: " + errno_text(errno));
    std::string link(buf.data(), static_cast<std::size_t>(n));
    p = (link.front() == '/' || p.find('/') == std::string::npos) ? link
                                                                  : folder_of(p) + "/" + link;
  }
  throw Error(path, "cannot write: " + errno_text(ELOOP));
}

enum class Kind { standard_output, new_file, regular_file, special_file };

// Classifies a path whose final links are resolved and checks it can be written.
Kind checked_kind(const std::string& path, const std::string& target, const std::string& what) {
  if (path == "-") return Kind::standard_output;
  auto refuse = [&](const std::string& why) {
    throw Error(path, "cannot write " + what + ": " + why);
  };
  auto folder_writable = [&](const std::string& folder) {
    struct stat fst {};
    if (::stat(folder.c_str(), &fst) != 0) refuse("folder '" + folder + "': " + errno_text(errno));
    if (!S_ISDIR(fst.st_mode)) refuse("'" + folder + "' is not a folder");
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
      refuse("folder '" + folder + "': " + errno_text(errno));
  };
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) refuse(errno_text(errno));
    folder_writable(folder_of(target));
    return Kind::new_file;
  }
  if (S_ISDIR(st.st_mode)) refuse("is a directory");
  if (::access(target.c_str(), W_OK) != 0) refuse(errno_text(errno));
  if (!S_ISREG(st.st_mode)) return Kind::special_file;
  folder_writable(folder_of(target));  // the temporary goes beside it
  return Kind::regular_file;
}

// ---- temporaries removed on a terminating signal ----------------------------

constexpr int kSlots = 64;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 file, 2 folder
  char path[PATH_MAX];
};
Slot g_slots[kSlots];
std::mutex g_slots_mutex;
bool g_handlers_installed = false;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

void remove_folder_now(const char* path) noexcept {
  const int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    alignas(8) char buf[4096];
    for (;;) {
      const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (n <= 0) break;
      for (long at = 0; at < n;) {
        struct Entry {
          std::uint64_t ino;
          std::int64_t off;
          unsigned short reclen;
          unsigned char type;
          char name[1];
        };
        const auto* e = reinterpret_cast<const Entry*>(buf + at);
        if (std::strcmp(e->name, ".") != 0 && std::strcmp(e->name, "..") != 0)
          ::unlinkat(dir, e->name, 0);
        at += e->reclen;
      }
    }
    ::close(dir);
  }
  ::rmdir(path);
}

void on_terminating_signal(int sig) {
  remove_registered_temporaries();
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when the handler returns: the process ends as it would have
}

void install_handlers() {
  if (g_handlers_installed) return;
  g_handlers_installed = true;
  for (const int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    const bool is_default = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
    if (!is_default) continue;  // the program's own handler calls remove_registered_temporaries
    struct sigaction sa {};
    sa.sa_handler = on_terminating_signal;
    sigemptyset(&sa.sa_mask);
    for (const int s : kSignals) sigaddset(&sa.sa_mask, s);
    ::sigaction(sig, &sa, nullptr);
  }
}

void fsync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the rename is done; a folder we cannot open cannot be synced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

SignalsBlocked::SignalsBlocked() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : kSignals) sigaddset(&set, s);
  ::pthread_sigmask(SIG_BLOCK, &set, &old_);
}

SignalsBlocked::~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

void register_temporary(const std::string& path, bool is_folder) {
  if (path.size() >= PATH_MAX) return;
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  install_handlers();
  for (Slot& s : g_slots) {
    if (s.state.load() != 0) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.state.store(is_folder ? 2 : 1);
    return;
  }
}

void unregister_temporary(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  for (Slot& s : g_slots)
    if (s.state.load() != 0 && path == s.path) {
      s.state.store(0);
      return;
    }
}

void remove_registered_temporaries() noexcept {
  for (Slot& s : g_slots) {
    const int state = s.state.exchange(0);
    if (state == 1) ::unlink(s.path);
    if (state == 2) remove_folder_now(s.path);
  }
}

// ---- checks -------------------------------------------------------------------

void check_output_path(const std::string& path, const std::string& what) {
  if (path.empty()) throw Error(what, "empty output path");
  if (path == "-") return;
  checked_kind(path, resolve_final_links(path), what);
}

namespace {

struct Identity {
  bool skip = false;  // "-", a device or a FIFO
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string resolved;  // absolute, symlinks resolved as far as the path exists
};

Identity identity_of(const std::string& path) {
  Identity id;
  if (path == "-" || path.empty()) {
    id.skip = true;
    return id;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      id.skip = true;
      return id;
    }
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
  }
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  id.resolved = p.string();
  while (id.resolved.size() > 1 && id.resolved.back() == '/') id.resolved.pop_back();
  return id;
}

bool inside(const std::string& inner, const std::string& outer) {
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         (outer == "/" || inner[outer.size()] == '/');
}

// Throws when writing `out` could overwrite `other` (an input, or another output).
void check_pair(const RunPath& out, const Identity& o, const RunPath& other, const Identity& x,
                const char* role) {
  if (o.skip || x.skip) return;
  const std::string theirs = other.what + " '" + other.path + "'";
  if ((o.exists && x.exists && o.dev == x.dev && o.ino == x.ino) || o.resolved == x.resolved)
    throw Error(out.path,
                out.what + " is the same file as " + role + theirs + "; refusing to overwrite it");
  if (inside(o.resolved, x.resolved))
    throw Error(out.path, out.what + " lies inside " + role + theirs + "; refusing to write there");
  if (inside(x.resolved, o.resolved))
    throw Error(out.path, out.what + " would hold " + role + theirs + "; refusing to replace it");
}

}  // namespace

void check_outputs_apart(const std::vector<RunPath>& inputs, const std::vector<RunPath>& outputs) {
  std::vector<Identity> in_ids, out_ids;
  for (const RunPath& i : inputs) in_ids.push_back(identity_of(i.path));
  for (const RunPath& o : outputs) out_ids.push_back(identity_of(o.path));
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      check_pair(outputs[k], out_ids[k], inputs[i], in_ids[i], "the input ");
    for (std::size_t j = 0; j < k; ++j) {
      if (outputs[k].path == "-" && outputs[j].path == "-")
        throw Error(outputs[k].what, "writes to standard output like " + outputs[j].what +
                                         "; only one output can go there");
      check_pair(outputs[k], out_ids[k], outputs[j], out_ids[j], "the output ");
    }
  }
}

// ---- OutputFile -------------------------------------------------------------------

OutputFile::OutputFile(const std::string& path, const std::string& what)
    : path_(path), what_(what) {
  if (path.empty()) throw Error(what, "empty output path");
  target_ = path == "-" ? path : resolve_final_links(path);
  const Kind kind = checked_kind(path, target_, what);
  if (kind == Kind::standard_output) {
    std::cout.flush();  // what the program printed before comes first
    std::fflush(stdout);
    fd_ = STDOUT_FILENO;
    return;
  }
  if (kind == Kind::special_file) {
    // No O_CREAT, no O_TRUNC: a device or FIFO is written, never replaced.
    fd_ = ::open(target_.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) throw Error(path, "cannot write " + what + ": " + errno_text(errno));
    owns_fd_ = true;
    return;
  }
  mode_t mode = 0666;
  if (kind == Kind::regular_file) {
    struct stat st {};
    if (::stat(target_.c_str(), &st) == 0) mode = st.st_mode & 07777;  // keep its permissions
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode &= ~mask;
  }
  std::string tmpl = folder_of(target_) + "/." + name_of(target_) + ".pcnn-tmp-XXXXXX";
  {
    SignalsBlocked blocked;
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);  // O_EXCL: never an existing file or link
    if (fd_ < 0)
      throw Error(path, "cannot create a temporary file for " + what + " in '" +
                            folder_of(target_) + "': " + errno_text(errno));
    temp_ = tmpl;
    register_temporary(temp_, false);
  }
  owns_fd_ = true;
  if (::fchmod(fd_, mode) != 0) {
    const int e = errno;
    discard();
    throw Error(path, "cannot write " + what + ": " + errno_text(e));
  }
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::discard() noexcept {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  owns_fd_ = false;
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    unregister_temporary(temp_);
    temp_.clear();
  }
}

void OutputFile::flush() {
  if (fd_ < 0) throw Error(path_, "cannot write " + what_ + ": the file is closed");
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(path_, "cannot write " + what_ + ": " + errno_text(errno));
    }
    p += w;
    left -= static_cast<std::size_t>(w);
    written_ += static_cast<std::uint64_t>(w);
  }
  buffer_.clear();
}

void OutputFile::write(const void* data, std::size_t size) {
  constexpr std::size_t kBuffer = 1 << 16;
  if (buffer_.size() + size > kBuffer) flush();
  if (size >= kBuffer) {  // large blocks go straight out
    buffer_.assign(static_cast<const char*>(data), size);
    flush();
    return;
  }
  buffer_.append(static_cast<const char*>(data), size);
}

void OutputFile::printf(const char* format, ...) {
  char small[256];
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (n < 0) {
    va_end(again);
    throw Error(path_, "cannot format " + what_);
  }
  if (static_cast<std::size_t>(n) < sizeof small) {
    va_end(again);
    write(small, static_cast<std::size_t>(n));
    return;
  }
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  std::vsnprintf(big.data(), big.size(), format, again);
  va_end(again);
  write(big.data(), static_cast<std::size_t>(n));
}

void OutputFile::commit() {
  flush();
  if (!owns_fd_) return;  // standard output stays open
  auto fail = [&](int e) {
    discard();
    throw Error(path_, "cannot write " + what_ + ": " + errno_text(e));
  };
  if (temp_.empty()) {  // a device or FIFO
    const int rc = ::close(fd_);
    fd_ = -1;
    owns_fd_ = false;
    if (rc != 0) throw Error(path_, "cannot write " + what_ + ": " + errno_text(errno));
    return;
  }
  if (::fsync(fd_) != 0) fail(errno);
  const int rc = ::close(fd_);
  fd_ = -1;
  owns_fd_ = false;
  if (rc != 0) fail(errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno);
  unregister_temporary(temp_);
  temp_.clear();
  fsync_folder(folder_of(target_));
}

void write_output_file(const std::string& path, std::string_view bytes, const std::string& what) {
  OutputFile out(path, what);
  out.write(bytes);
  out.commit();
}

}  // namespace pcnn
