// The shared error type: whatever a user file puts into a name, a message is
// one printable line.
#include <catch2/catch.hpp>

#include "pcnn/core/error.hpp"

TEST_CASE("error messages escape control characters to stay one line", "[core]") {
  const pcnn::Error e("model.onnx", std::string("node 'a\nb\rc") + '\0' + "d\x7f'");
  CHECK(std::string(e.what()) == "model.onnx: node 'a\\x0ab\\x0dc\\x00d\\x7f'");
  CHECK(std::string(pcnn::Error("tab\there").what()) == "tab\\x09here");
  CHECK(std::string(pcnn::Error("caf\xc3\xa9", "ok").what()) == "caf\xc3\xa9: ok");  // UTF-8 kept
  // C1 controls and bytes that are not UTF-8, as the tables show them (printable.hpp).
  CHECK(std::string(pcnn::Error("f\xc2\x9b"
                                "2J",
                                "node '\x9b\xff'")
                        .what()) == "f\\u009b2J: node '\\x9b\\xff'");
  // An escaped message wrapped again is not escaped twice.
  const pcnn::Error inner("a\x1b\xc2\x85", "b");
  CHECK(std::string(pcnn::Error("outer", inner.what()).what()) == "outer: a\\x1b\\u0085: b");
}
