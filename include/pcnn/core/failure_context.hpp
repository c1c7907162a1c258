#pragma once
// Failures that do not name their file by themselves: std::bad_alloc and other
// std::exceptions from deep inside a reader or a computation. on_behalf_of()
// gives them the file or option being worked on, as a pcnn::Error; what still
// escapes to a program's top level is named by the program's input
// (pcnn::run_program, pcnn/core/command_line.hpp).
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "pcnn/core/error.hpp"

namespace pcnn {

// Runs `work` for `where` (a file or option). A std::bad_alloc escaping it
// becomes Error(where, "out of memory while <doing>"), any other exception that
// is not a pcnn::Error Error(where, "internal error while <doing>: <what>");
// a pcnn::Error passes unchanged.
template <typename Work>
decltype(auto) on_behalf_of(const std::string& where, const std::string& doing, Work&& work) {
  try {
    return std::forward<Work>(work)();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error(where, "out of memory while " + doing);
  } catch (const std::exception& e) {
    throw Error(where, "internal error while " + doing + ": " + e.what());
  }
}

}  // namespace pcnn
