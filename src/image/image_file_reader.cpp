#include "image_file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pcnn/core/error.hpp"

namespace pcnn {

ImageFileReader::ImageFileReader(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd_ < 0) throw Error(path_, std::string("cannot open file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(path_, std::string("cannot read file: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(path_, S_ISDIR(st.st_mode)    ? "cannot read file: is a directory"
                       : S_ISFIFO(st.st_mode) ? "cannot read file: is a FIFO, not a regular file"
                                              : "cannot read file: not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

ImageFileReader::~ImageFileReader() { ::close(fd_); }

void ImageFileReader::read(std::uint64_t offset, std::uint64_t length, std::uint8_t* to) const {
  std::uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, to + done, static_cast<std::size_t>(length - done),
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path_, std::string("cannot read file: ") + std::strerror(errno));
    if (n == 0)
      throw Error(path_, "cannot read file: the file ended at byte " +
                             std::to_string(offset + done) + " (it shrank while being read)");
    done += static_cast<std::uint64_t>(n);
  }
}

}  // namespace pcnn
