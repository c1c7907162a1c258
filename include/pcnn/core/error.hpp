#pragma once
// One exception type for every user-facing failure. Its message is the single
// line a command-line program prints: "<file or option>: <what is wrong>".
#include <stdexcept>
#include <string>

namespace pcnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  // "where: what", e.g. Error("model.onnx", "truncated protobuf").
  Error(const std::string& where, const std::string& what)
      : std::runtime_error(where + ": " + what) {}
};

}  // namespace pcnn
