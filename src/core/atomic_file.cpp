#include "pcnn/core/atomic_file.hpp"

#include <cstdio>

#include "pcnn/core/error.hpp"

namespace pcnn {

void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& what) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(path, "cannot write " + what);
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path, "cannot write " + what);
  }
}

}  // namespace pcnn
