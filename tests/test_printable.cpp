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

namespace {

// ESC (a CSI), U+009B (the 8-bit CSI) as UTF-8, the raw byte 0x9b and a byte
// that is never UTF-8, as they must appear escaped.
const std::string kHostile =
    "e\x1b[2J"
    "\xc2\x9b"
    "31m"
    "\x9b"
    "2J\xff";
const std::string kHostileShown = "e\\x1b[2J\\u009b31m\\x9b2J\\xff";

// A failure's stderr is one line that printable() leaves unchanged: no control
// character, C1 control or invalid UTF-8 reaches the terminal.
void check_one_escaped_line(const pcnn_test::RunResult& r) {
  INFO(r.err);
  CHECK(r.status == 1);
  REQUIRE(!r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  const std::string line = r.err.substr(0, r.err.size() - 1);
  CHECK(pcnn::printable(line) == line);
}

}  // namespace

TEST_CASE("pcnn-prune error lines escape C1 controls and invalid UTF-8 in file and node names",
          "[prune][cli]") {
  TempDir tmp;
  // A model file whose name is hostile (and whose contents are not ONNX).
  const std::string bad_model = tmp / (kHostile + ".onnx");
  pcnn_test::write_text(bad_model, "not a model");
  pcnn_test::RunResult r =
      pcnn_test::run_program(tmp, "pcnn-prune", "'" + bad_model + "' -o '" + tmp / "o1" + "'");
  check_one_escaped_line(r);
  CHECK_THAT(r.err, Catch::StartsWith("pcnn-prune: " + tmp / kHostileShown + ".onnx: "));

  // A conv node with a hostile name whose output is over a (lowered) tensor limit.
  {
    pcnn::ModelBuilder b("net", {1, 3, 8, 8}, 3);
    b.relu(b.conv(b.input(), 16, pcnn::ConvOptions{}, kHostile));
    b.write(tmp / "m.onnx");
  }
  r = pcnn_test::run_program(tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "o2" + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);  // under the default limit it prunes
  ::setenv("PCNN_MAX_TENSOR_VALUES", "1000", 1);
  r = pcnn_test::run_program(tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "o3" + "'");
  ::unsetenv("PCNN_MAX_TENSOR_VALUES");
  check_one_escaped_line(r);
  CHECK_THAT(r.err, Catch::Contains("node '" + kHostileShown + "'"));

  // An option value: a calibration folder that does not exist.
  r = pcnn_test::run_program(
      tmp, "pcnn-prune",
      "'" + tmp / "m.onnx" + "' -o '" + tmp / "o4" + "' --calib '" + tmp / kHostile + "'");
  check_one_escaped_line(r);
  CHECK_THAT(r.err, Catch::StartsWith("pcnn-prune: " + tmp / kHostileShown + ": "));
}

TEST_CASE("pcnn-sim error lines escape C1 controls and invalid UTF-8 in file names and options",
          "[sim][cli]") {
  TempDir tmp;
  {
    pcnn::ModelBuilder b("net", {1, 4, 8, 8}, 3);
    b.relu(b.conv(b.input(), 8, pcnn::ConvOptions{}, "c1"));
    b.write(tmp / "m.onnx");
  }
  pcnn_test::RunResult r = pcnn_test::run_program(
      tmp, "pcnn-prune", "'" + tmp / "m.onnx" + "' -o '" + tmp / "img" + "' --calib-samples 1");
  REQUIRE(r.status == 0);

  // An image set folder that does not exist.
  r = pcnn_test::run_program(tmp, "pcnn-sim", "run '" + tmp / kHostile + "'");
  check_one_escaped_line(r);
  CHECK_THAT(r.err, Catch::StartsWith("pcnn-sim: " + tmp / kHostileShown + "/"));

  // An architecture file that does not exist.
  r = pcnn_test::run_program(tmp, "pcnn-sim",
                             "run '" + tmp / "img" + "' --arch '" + tmp / kHostile + ".json'");
  check_one_escaped_line(r);
  CHECK_THAT(r.err, Catch::Contains(tmp / kHostileShown + ".json"));

  // A layer name that is not in the image set.
  r = pcnn_test::run_program(tmp, "pcnn-sim",
                             "run '" + tmp / "img" + "' --layer '" + kHostile + "'");
  check_one_escaped_line(r);
  CHECK(r.err ==
        "pcnn-sim: --layer: no layer named '" + kHostileShown + "' in " + tmp / "img" + "\n");
}
