#include "pcnn/core/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pcnn/core/error.hpp"

namespace pcnn {
namespace {

// The whole file, or with `head` only its first max_bytes bytes; its size in
// *file_size when given.
template <typename Buffer>
Buffer read_whole(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                  bool head = false, std::uint64_t* file_size = nullptr) {
  auto fail = [&](const std::string& why) -> void {
    throw Error(path, "cannot read " + what + ": " + why);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw Error(path, "cannot open " + what + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(S_ISDIR(st.st_mode)    ? "is a directory"
         : S_ISFIFO(st.st_mode) ? "is a FIFO, not a regular file"
                                : "not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (file_size) *file_size = size;
  if (size > max_bytes && !head) {
    ::close(fd);
    fail("larger than " + std::to_string(max_bytes) + " bytes");
  }
  Buffer buffer(static_cast<std::size_t>(std::min(size, max_bytes)), 0);
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::read(fd, reinterpret_cast<char*>(&buffer[0]) + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      fail(std::strerror(e));
    }
    if (n == 0) break;  // shrank while read
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buffer.resize(done);
  return buffer;
}

}  // namespace

std::string read_input_file(const std::string& path, const std::string& what,
                            std::uint64_t max_bytes) {
  return read_whole<std::string>(path, what, max_bytes);
}

InputFileHead read_input_head(const std::string& path, const std::string& what, std::size_t bytes) {
  InputFileHead h;
  h.bytes = read_whole<std::string>(path, what, bytes, true, &h.size);
  return h;
}

std::vector<std::uint8_t> read_input_bytes(const std::string& path, const std::string& what,
                                           std::uint64_t max_bytes) {
  return read_whole<std::vector<std::uint8_t>>(path, what, max_bytes);
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  const std::string text = read_input_file(path, what, std::uint64_t{1} << 26);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, "not valid JSON: " + json_error_text(e));
  }
}

std::string json_error_text(const std::exception& e) {
  std::string why = e.what();  // "[json.exception.parse_error.101] parse error at line 1, ..."
  if (!why.empty() && why.front() == '[') {
    const auto end = why.find("] ");
    if (end != std::string::npos) why = why.substr(end + 2);
  }
  return why;
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pcnn
