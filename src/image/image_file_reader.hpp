#pragma once
// One image file opened for reading byte ranges (pread), so that a run reads
// only the regions of the layers it needs. Only a regular file is accepted:
// a FIFO or a directory in its place is refused at open, before any wait.
#include <cstdint>
#include <string>

namespace pcnn {

class ImageFileReader {
 public:
  // Throws pcnn::Error("<path>: cannot open ...: <reason>").
  explicit ImageFileReader(std::string path);
  ~ImageFileReader();
  ImageFileReader(const ImageFileReader&) = delete;
  ImageFileReader& operator=(const ImageFileReader&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  // Reads bytes [offset, offset + length) into `to`; the range must lie inside
  // size(). Throws pcnn::Error naming the file when the read fails or the file
  // has shrunk since it was opened.
  void read(std::uint64_t offset, std::uint64_t length, std::uint8_t* to) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace pcnn
