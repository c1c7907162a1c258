#include "pcnn/image/staging_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "pcnn/core/error.hpp"

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

bool replaceable(const fs::path& p, std::string& why) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return true;
  if (!fs::is_directory(p, ec)) {
    why = "exists and is not a directory";
    return false;
  }
  if (fs::is_empty(p, ec) || fs::exists(p / "manifest.json", ec)) return true;
  why = "exists, is not empty and holds no manifest.json; refusing to replace it";
  return false;
}

}  // namespace

StagingDirectory::StagingDirectory(const std::string& final_dir)
    : final_(strip_trailing_slashes(final_dir)) {
  if (final_.empty()) throw Error("output directory", "empty path");
  std::string why;
  if (!replaceable(final_, why)) throw Error(final_, why);
  const fs::path target(final_);
  fs::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  std::string tmpl = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw Error(final_, "cannot create the output directory: " + errno_text());
  staging_ = tmpl;
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
}

void StagingDirectory::commit() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(staging_, ec))
    if (entry.is_regular_file()) fsync_path(entry.path().string(), false);
  fsync_path(staging_, true);

  std::string why;
  if (!replaceable(final_, why)) throw Error(final_, why);
  std::string old;
  if (fs::exists(fs::symlink_status(final_, ec))) {
    // rename(2) cannot replace a non-empty directory: move the old one aside first.
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
  if (!old.empty()) fs::remove_all(old, ec);
  fs::path parent = fs::path(final_).parent_path();
  fsync_path(parent.empty() ? std::string(".") : parent.string(), true);
}

void write_file_synced(const std::string& path, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path, "cannot open");
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path, "cannot read");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw Error(path, "cannot read");
  return bytes;
}

}  // namespace pcnn
