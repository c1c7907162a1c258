// Names from user files reach the terminal escaped: the run and report tables,
// the sweep listing and error lines never pass a control character through.
#include <catch2/catch.hpp>

#include <string>

#include "pcnn/core/error.hpp"
#include "pcnn/core/printable.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "prune_test_support.hpp"

namespace {

using pcnn_test::TempDir;

// True when `text` holds no C0 control (other than '\n'), DEL or C1 control.
bool terminal_safe(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("printable escapes control characters and keeps UTF-8", "[core]") {
  using pcnn::printable;
  CHECK(printable("conv1") == "conv1");
  CHECK(printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(printable("tab\there\r\n") == "tab\\x09here\\x0d\\x0a");
  CHECK(printable("two\nlines\x07", true) == "two\nlines\\x07");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(printable("del\x7f") == "del\\x7f");
  // UTF-8 stays; C1 controls (here U+009B, an 8-bit CSI) are escaped by code point.
  CHECK(printable("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80") ==
        "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");
  CHECK(printable("x\xc2\x9b"
                  "31m") == "x\\u009b31m");
  // Bytes that are not UTF-8: a lone 8-bit CSI, a truncated sequence, an
  // overlong '/', a surrogate.
  CHECK(printable("\x9b"
                  "2J") == "\\x9b2J");
  CHECK(printable("ab\xe2\x86") == "ab\\xe2\\x86");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  // Escaping twice changes nothing, so a message can be wrapped again.
  const std::string once = printable("n\x1b\xc2\x9b\xff");
  CHECK(printable(once) == once);
  CHECK(std::string(pcnn::Error(once, "x").what()) == once + ": x");
}

TEST_CASE("layer names with control characters are escaped in the prune and run tables",
          "[prune][sim][cli]") {
  TempDir tmp;
  const std::string evil = "c\x1b]0;owned\x07\x1b[2J";  // retitle, then clear the screen
  {
    pcnn::ModelBuilder b("net\x1b[31m", {1, 4, 8, 8}, 3);
    b.relu(b.conv(b.conv(b.input(), 8, pcnn::ConvOptions{}, evil), 8, pcnn::ConvOptions{}, "c2"));
    b.write(tmp / "m.onnx");
  }
  pcnn_test::RunResult r = pcnn_test::run_program(
      tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "img" + "' --calib-samples 1");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(terminal_safe(r.out));
  CHECK(r.out.find("model net\\x1b[31m") != std::string::npos);
  CHECK(r.out.find("patterns c\\x1b]0;owned\\x07\\x1b[2J:") != std::string::npos);

  r = pcnn_test::run_program(tmp, "pcnn-sim", "run '" + tmp / "img" + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(terminal_safe(r.out));
  CHECK(r.out.find("c\\x1b]0;owned\\x07\\x1b[2J") != std::string::npos);

  // Error lines naming the layer are escaped the same way.
  r = pcnn_test::run_program(tmp, "pcnn-sim",
                             "run '" + tmp / "img" + "' --layer \"$(printf 'x\\033[2J')\"");
  CHECK(r.status == 1);
  CHECK(terminal_safe(r.err));
  CHECK(r.err == "pcnn-sim: --layer: no layer named 'x\\x1b[2J' in " + tmp / "img" + "\n");
}
