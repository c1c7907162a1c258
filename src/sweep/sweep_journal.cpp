#include "pcnn/sweep/sweep_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pcnn/core/error.hpp"
#include "pcnn/sweep/csv_table.hpp"

namespace pcnn {

namespace {

constexpr char kMagic[] = "# pcnn-sim sweep journal 1: ";

std::string reason() { return std::strerror(errno); }

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// Makes a new directory entry durable.
void sync_directory(const std::string& file) {
  const int d = open(directory_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buf[65536];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path, "cannot read the sweep journal: " + reason());
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string sweep_journal_path(const std::string& output) { return output + ".journal"; }

SweepJournal::SweepJournal(const std::string& path, const std::string& identity,
                           const std::vector<std::string>& header, bool resume)
    : path_(path) {
  const std::string first_lines = kMagic + identity + "\n" + csv_record(header);
  // O_EXCL: never follow a link planted at the path, never take over a file.
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ >= 0) {
    if (!write_all(fd_, first_lines) || fsync(fd_) != 0) {
      const std::string why = reason();
      close(fd_);
      unlink(path.c_str());
      throw Error(path, "cannot write the sweep journal: " + why);
    }
    sync_directory(path);
    return;
  }
  if (errno != EEXIST) throw Error(path, "cannot create the sweep journal: " + reason());
  if (!resume)
    throw Error(path,
                "holds the finished points of an earlier run of this output; run with "
                "--resume to finish it, or remove the file to start over");

  fd_ = open(path.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) throw Error(path, "cannot open the sweep journal: " + reason());
  struct stat st;
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd_);
    throw Error(path, "is not a regular file, so not a sweep journal");
  }
  resumed_ = true;
  std::string text;
  try {
    text = read_all(fd_, path);
  } catch (...) {
    close(fd_);
    throw;
  }
  auto fail = [&](const std::string& what) {
    close(fd_);
    fd_ = -1;
    throw Error(path, what);
  };
  const std::string magic_and_identity = kMagic + identity + "\n";
  if (text.compare(0, sizeof kMagic - 1, kMagic) != 0) fail("is not a sweep journal");
  if (text.compare(0, magic_and_identity.size(), magic_and_identity) != 0) {
    const std::string found = text.substr(sizeof kMagic - 1, text.find('\n') - (sizeof kMagic - 1));
    fail("belongs to '" + found + "', not to '" + identity +
         "': the sweep file, its architecture, its images or the shard changed since; "
         "remove the journal to start over");
  }
  // A crash can leave the last row cut short: keep only whole lines.
  const std::size_t whole = text.rfind('\n') + 1;
  if (whole < text.size()) {
    if (ftruncate(fd_, static_cast<off_t>(whole)) != 0)
      fail("cannot drop a cut-short row: " + reason());
    text.resize(whole);
  }
  std::vector<std::vector<std::string>> records;
  try {
    records = parse_csv_text(text.substr(magic_and_identity.size()), path);
  } catch (const Error& e) {
    fail(std::string("damaged sweep journal: ") + e.what());
  }
  if (records.empty() || records[0] != header) fail("its columns are not those of this sweep");
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != header.size())
      fail("damaged sweep journal: row " + std::to_string(r) + " has " +
           std::to_string(records[r].size()) + " fields, the header " +
           std::to_string(header.size()));
    kept_.push_back(std::move(records[r]));
  }
}

SweepJournal::~SweepJournal() {
  if (fd_ >= 0) close(fd_);
}

void SweepJournal::append(const std::vector<std::string>& row) {
  const off_t before = lseek(fd_, 0, SEEK_END);
  if (!write_all(fd_, csv_record(row)) || fsync(fd_) != 0) {
    const std::string why = reason();
    if (before >= 0 && ftruncate(fd_, before) != 0) {
    }  // the next resume drops a cut-short row anyway
    throw Error(path_, "cannot keep point " + row.at(0) + " in the sweep journal: " + why);
  }
}

void remove_sweep_journal(const std::string& path) {
  if (unlink(path.c_str()) == 0) sync_directory(path);
}

}  // namespace pcnn
