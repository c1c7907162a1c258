#pragma once
// The one way the programs write an output file (docs/outputs.md).
//
//   pcnn::OutputFile out(path, "the result file");  // checks the path, opens
//   out.write(text);                                 // as often as needed
//   out.commit();                                    // the file appears whole
//
// Where the bytes go depends on what `path` is when the file is opened:
// * "-": standard output.
// * absent or a regular file: a hidden unique temporary ".NAME.pcnn-tmp-XXXXXX"
//   created with O_EXCL in the same folder; commit() fsyncs it, renames it
//   over NAME and fsyncs the folder. Until then NAME keeps its old content.
// * a FIFO, a character device (/dev/null, /dev/stdout, a terminal): written
//   directly, never replaced.
// * a symlink: the file it points at is written as above; the link stays.
// * a directory: refused.
// An OutputFile destroyed without commit() (an exception unwound the run)
// removes its temporary. SIGINT, SIGTERM and SIGHUP remove every live
// temporary before the process dies of the signal; SIGKILL or a power loss can
// leave a ".NAME.pcnn-tmp-XXXXXX" behind, never a half-written NAME.
//
// Every failure throws pcnn::Error naming the path and the reason (strerror).
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcnn {

// Throws unless `path` can be written as described above: "-", a new file in an
// existing writable folder, a writable regular file in a writable folder, or a
// writable FIFO or device. `what` names the output in the message ("--json").
// Call it for every output before the work starts.
void check_output_path(const std::string& path, const std::string& what);

// A file or folder a run reads or writes, with the option or argument naming it.
struct RunPath {
  std::string path;
  std::string what;  // "--json", "IMAGES_DIR"
};

// Refuses (throws pcnn::Error) when an output is also an input or another
// output of the same run, or when one lies inside the other (an output inside
// an input folder, an input inside an output folder). Paths are compared by
// device and inode when they exist and by resolved path otherwise; "-",
// devices and FIFOs are never in conflict except two "-" outputs.
void check_outputs_apart(const std::vector<RunPath>& inputs, const std::vector<RunPath>& outputs);

class OutputFile {
 public:
  // Checks the path (check_output_path) and opens where the bytes go.
  OutputFile(const std::string& path, const std::string& what);
  ~OutputFile();  // not committed: removes the temporary; the target is untouched
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // The descriptor for writers that need one (protobuf streams). Call flush()
  // before writing to it directly after write()/printf().
  int fd() const { return fd_; }
  void flush();
  // Writes out, syncs and puts the file in place; throws on any failure.
  void commit();
  const std::string& path() const { return path_; }
  std::uint64_t bytes_written() const { return written_ + buffer_.size(); }

 private:
  void discard() noexcept;

  std::string path_, what_;
  std::string target_;  // the file that is finally written (symlinks resolved)
  std::string temp_;    // empty when writing directly
  int fd_ = -1;
  bool owns_fd_ = false;
  std::string buffer_;
  std::uint64_t written_ = 0;  // bytes flushed so far
};

// The whole content at once.
void write_output_file(const std::string& path, std::string_view bytes, const std::string& what);

// Registry of temporaries that a terminating signal removes (OutputFile and
// StagingDirectory use it). A folder is removed with the files directly in it.
void register_temporary(const std::string& path, bool is_folder);
void unregister_temporary(const std::string& path);
// Async-signal-safe: removes every registered temporary. A program that
// installs its own SIGINT/SIGTERM handler calls it from that handler (the
// built-in handler is installed only where the disposition is the default).
void remove_registered_temporaries() noexcept;

// Holds SIGINT, SIGTERM and SIGHUP back in this thread while alive: wrap the
// creation and registration of a temporary so no signal falls between them.
class SignalsBlocked {
 public:
  SignalsBlocked();
  ~SignalsBlocked();
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

}  // namespace pcnn
