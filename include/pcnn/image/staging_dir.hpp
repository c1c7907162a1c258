#pragma once
// Writing an output directory all at once: files go into a hidden sibling
// directory that is renamed onto the final path only when everything has been
// written and synced. If anything fails, the sibling is removed and no output
// is left behind.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn {

class StagingDirectory {
 public:
  // Creates the sibling directory. The final path must not exist, or be an
  // empty directory, or provably an earlier output, which commit() replaces: a
  // real directory whose manifest.json describes an image set of this format
  // and that holds only regular files named in image_set_file_names() or
  // `extra_files` (what the program itself writes). Anything else is refused:
  // throws pcnn::Error naming final_dir and why.
  explicit StagingDirectory(const std::string& final_dir,
                            const std::vector<std::string>& extra_files = {});
  ~StagingDirectory();  // removes the staging directory unless committed
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;

  const std::string& path() const { return staging_; }
  std::string file(const std::string& name) const { return staging_ + "/" + name; }
  // Syncs every file and renames the staging directory onto the final path.
  void commit();

 private:
  void fsync_parent() const;

  std::string final_;
  std::string staging_;
  std::vector<std::string> own_files_;
  bool committed_ = false;
};

// Writes a whole file and fsyncs it; throws pcnn::Error naming the path.
void write_file_synced(const std::string& path, const void* data, std::size_t size);
inline void write_file_synced(const std::string& path, const std::string& text) {
  write_file_synced(path, text.data(), text.size());
}
// Reads a whole file; throws pcnn::Error naming the path.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);

}  // namespace pcnn
