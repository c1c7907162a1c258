#pragma once
// Running a program with its address space limited (`ulimit -v`), so that a
// tool which needs more memory than a bound fails as "out of memory" instead
// of passing by luck.
#include <cstdlib>
#include <string>

#include "prune_test_support.hpp"

namespace pcnn_test {

inline bool built_with_address_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}

// Runs a program with its address space limited to 512 MiB (or `ulimit`).
// AddressSanitizer reserves terabytes of address space, so its build runs the
// program without the limit (the results are checked all the same).
inline RunResult run_in_small_address_space(const TempDir& tmp, const std::string& program,
                                            const std::string& args, const std::string& env = "",
                                            const std::string& ulimit = "ulimit -v 524288; ") {
  const std::string limit = built_with_address_sanitizer() ? "" : ulimit;
  const std::string out = tmp / "out.txt", err = tmp / "err.txt";
  const std::string cmd = "(" + limit + "exec env " + env + " timeout 120 " + binary(program) +
                          " " + args + ") > '" + out + "' 2> '" + err + "'";
  const int rc = std::system(cmd.c_str());
  return RunResult{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

}  // namespace pcnn_test
