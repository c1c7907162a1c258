#pragma once
// One exception type for every user-facing failure. Its message is the single
// line a command-line program prints: "<file or option>: <what is wrong>".
// Names taken from user files (ONNX node names, JSON keys) may hold control
// characters; they are escaped as \xNN so the message stays one line.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace pcnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}
  // "where: what", e.g. Error("model.onnx", "truncated protobuf").
  Error(const std::string& where, const std::string& what)
      : std::runtime_error(one_line(where + ": " + what)) {}

 private:
  static std::string one_line(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) {
        out += c;
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", u);
        out += buf;
      }
    }
    return out;
  }
};

}  // namespace pcnn
