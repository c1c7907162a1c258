#include "pcnn/core/version.hpp"

// PCNN_VERSION is defined for this file only (CMakeLists.txt), so a version bump
// recompiles one file; git_commit() lives in a source generated at build time.
const char* pcnn::tool_version() { return PCNN_VERSION; }

std::string pcnn::version_line(const std::string& program) {
  return program + " " + tool_version() + " (commit " + git_commit() + ")";
}
