#pragma once
// The tool version (the CMake project version) and the git commit the library was
// built from ("unknown" outside a git checkout, "-dirty" appended when the tree had
// uncommitted changes). Every program prints both for --version; result files
// carry them so a number can be traced to the code that produced it.
#include <string>

namespace pcnn {

const char* tool_version();  // e.g. "0.1.0"
const char* git_commit();    // e.g. "c6bc7a7e41f2" or "c6bc7a7e41f2-dirty"

// "pcnn-sim 0.1.0 (commit c6bc7a7e41f2)": the line --version prints.
std::string version_line(const std::string& program);

}  // namespace pcnn
