#pragma once
// Result files appear whole or not at all: the bytes go to "<path>.tmp", which
// is renamed over `path` only after a complete write.
#include <string>

namespace pcnn {

// Throws pcnn::Error("<path>: cannot write <what>") and removes the temporary
// file when any step fails.
void write_file_atomically(const std::string& path, const std::string& bytes,
                           const std::string& what);

}  // namespace pcnn
