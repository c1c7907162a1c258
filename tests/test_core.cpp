// The shared error type: whatever a user file puts into a name, a message is
// one printable line.
#include <catch2/catch.hpp>

#include "pcnn/core/error.hpp"

TEST_CASE("error messages escape control characters to stay one line", "[core]") {
  const pcnn::Error e("model.onnx", std::string("node 'a\nb\rc") + '\0' + "d\x7f'");
  CHECK(std::string(e.what()) == "model.onnx: node 'a\\x0ab\\x0dc\\x00d\\x7f'");
  CHECK(std::string(pcnn::Error("tab\there").what()) == "tab\\x09here");
  CHECK(std::string(pcnn::Error("caf\xc3\xa9", "ok").what()) == "caf\xc3\xa9: ok");  // UTF-8 kept
}
