#include "pcnn/image/staging_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/image/model_images.hpp"

namespace pcnn {
namespace fs = std::filesystem;
namespace {

std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string errno_text() { return std::strerror(errno); }

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw Error(path, "cannot open for sync: " + errno_text());
  const int rc = ::fsync(fd);
  const std::string err = errno_text();
  ::close(fd);
  if (rc != 0 && directory == false) throw Error(path, "cannot sync: " + err);
}

// Why `p` may not be replaced by a new output, or "" when it may.
std::string why_not_replaceable(const std::string& p, const std::vector<std::string>& own_files) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return "";  // mkdtemp reports the folder
    return "cannot inspect: " + errno_text();
  }
  if (S_ISLNK(st.st_mode)) return "is a symlink; refusing to replace it";
  if (!S_ISDIR(st.st_mode)) return "exists and is not a directory";
  std::error_code ec;
  if (fs::is_empty(p, ec)) return "";
  const std::string manifest = why_not_image_set_manifest(p);
  if (!manifest.empty()) return "exists, is not empty and " + manifest + "; refusing to replace it";
  for (const auto& entry : fs::directory_iterator(p, ec)) {
    const std::string name = entry.path().filename().string();
    const bool known = std::find(own_files.begin(), own_files.end(), name) != own_files.end();
    struct stat est {};
    const bool regular = ::lstat(entry.path().c_str(), &est) == 0 && S_ISREG(est.st_mode);
    if (!known || !regular)
      return "holds '" + name + "', which this program did not write; refusing to replace it";
  }
  if (ec) return "cannot list: " + ec.message();
  return "";
}

}  // namespace

StagingDirectory::StagingDirectory(const std::string& final_dir,
                                   const std::vector<std::string>& extra_files)
    : final_(strip_trailing_slashes(final_dir)), own_files_(image_set_file_names()) {
  if (final_.empty()) throw Error("output directory", "empty path");
  own_files_.insert(own_files_.end(), extra_files.begin(), extra_files.end());
  const std::string why = why_not_replaceable(final_, own_files_);
  if (!why.empty()) throw Error(final_, why);
  const fs::path target(final_);
  fs::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  std::string tmpl = (parent / ("." + target.filename().string() + ".pcnn-tmp-XXXXXX")).string();
  {
    SignalsBlocked blocked;  // no signal between creating and registering it
    if (!::mkdtemp(tmpl.data())) {
      // Missing parent folders are not created: say which folder is missing.
      const std::string err = errno_text();
      throw Error(final_, "cannot create the output directory in the folder '" + parent.string() +
                              "': " + err);
    }
    staging_ = tmpl;
    register_temporary(staging_, true);
  }
  // mkdtemp makes the directory private (0700); the output is an ordinary
  // directory, so give it the permissions mkdir would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(staging_.c_str(), 0777 & ~mask);
}

StagingDirectory::~StagingDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
  unregister_temporary(staging_);
}

void StagingDirectory::commit() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(staging_, ec))
    if (entry.is_regular_file()) fsync_path(entry.path().string(), false);
  fsync_path(staging_, true);

  const std::string why = why_not_replaceable(final_, own_files_);
  if (!why.empty()) throw Error(final_, why);
  if (fs::exists(fs::symlink_status(final_, ec))) {
    // Swap the new output and the earlier one in one step; the earlier one is
    // then at the staging path (still registered for removal) and goes.
    if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) == 0) {
      committed_ = true;
      fs::remove_all(staging_, ec);
      unregister_temporary(staging_);
      fsync_parent();
      return;
    }
    if (errno != EINVAL && errno != ENOSYS)
      throw Error(final_, "cannot replace the earlier output: " + errno_text());
  }
  // No exchange on this file system: move the earlier output aside first
  // (rename(2) cannot replace a non-empty directory).
  std::string old;
  if (fs::exists(fs::symlink_status(final_, ec))) {
    old = staging_ + ".old";
    if (std::rename(final_.c_str(), old.c_str()) != 0)
      throw Error(final_, "cannot replace the earlier output: " + errno_text());
  }
  if (std::rename(staging_.c_str(), final_.c_str()) != 0) {
    const std::string err = errno_text();
    if (!old.empty()) std::rename(old.c_str(), final_.c_str());
    throw Error(final_, "cannot move the output into place: " + err);
  }
  committed_ = true;
  unregister_temporary(staging_);
  if (!old.empty()) fs::remove_all(old, ec);
  fsync_parent();
}

void StagingDirectory::fsync_parent() const {
  fs::path parent = fs::path(final_).parent_path();
  fsync_path(parent.empty() ? std::string(".") : parent.string(), true);
}

void write_file_synced(const std::string& path, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path, "cannot create: " + errno_text());
  const auto* p = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      const std::string err = errno_text();
      ::close(fd);
      throw Error(path, "write failed: " + err);
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const std::string err = errno_text();
    ::close(fd);
    throw Error(path, "cannot sync: " + err);
  }
  if (::close(fd) != 0) throw Error(path, "close failed: " + errno_text());
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  return read_input_bytes(path, "file");
}

}  // namespace pcnn
