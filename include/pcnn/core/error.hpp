#pragma once
// One exception type for every user-facing failure. Its message is the single
// line a command-line program prints: "<file or option>: <what is wrong>".
// Names taken from user files and the command line (file names, ONNX node
// names, JSON keys, option values) may hold control characters or bytes that
// are not UTF-8; the message is escaped here, once for every caller, exactly as
// the tables escape names (printable.hpp), so it stays one line and cannot
// drive the terminal. Escaping is idempotent: wrapping an Error's text in
// another Error changes nothing already escaped.
#include <stdexcept>
#include <string>

#include "pcnn/core/printable.hpp"

namespace pcnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(printable(message)) {}
  // "where: what", e.g. Error("model.onnx", "truncated protobuf").
  Error(const std::string& where, const std::string& what)
      : std::runtime_error(printable(where + ": " + what)) {}
};

}  // namespace pcnn
