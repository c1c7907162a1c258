// What every program shares (README "Exit status"): --version with the tool
// version and git commit, exit status 2 for usage errors and 1 for failures,
// and one error line "<program>: <where>: <what>".
#include <catch2/catch.hpp>

#include <regex>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/version.hpp"
#include "prune_test_support.hpp"

namespace {

pcnn_test::Run program(const std::string& name, const std::string& args) {
  return pcnn_test::run_command(pcnn_test::binary(name) + " " + args);
}

void expect_one_error_line(const pcnn_test::Run& r, int status, const std::string& prefix) {
  INFO(r.out);
  CHECK(r.status == status);
  CHECK(r.out.rfind(prefix, 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("every program prints its version and git commit", "[cli]") {
  const std::regex line(
      R"(pcnn-(zoo|prune|sim) \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)\n)");
  // Every pcnn-sim command lists --version in its --help, so each answers it.
  for (const std::string args :
       {"pcnn-zoo --version", "pcnn-prune --version", "pcnn-sim --version",
        "pcnn-sim run --version", "pcnn-sim run --network --version", "pcnn-sim sweep --version",
        "pcnn-sim golden --version", "pcnn-sim eval --version"}) {
    const std::string name = args.substr(0, args.find(' '));
    const pcnn_test::Run r = program(name, args.substr(args.find(' ') + 1));
    INFO(args << "\n" << r.out);
    CHECK(r.status == 0);
    CHECK(std::regex_match(r.out, line));
    CHECK(r.out == pcnn::version_line(name) + "\n");
  }
  CHECK(program("pcnn-prune", "--help").out.find("--version") != std::string::npos);
}

TEST_CASE("usage errors exit with status 2, failures with status 1", "[cli]") {
  expect_one_error_line(program("pcnn-zoo", "--bogus"), 2, "pcnn-zoo: command line: ");
  expect_one_error_line(program("pcnn-zoo", "no-such-model -o /tmp/x.onnx"), 2, "pcnn-zoo: no-such-model: unknown model");
  expect_one_error_line(program("pcnn-zoo", "vgg16-cifar -o /nonexistent-dir/x.onnx"), 1,
                        "pcnn-zoo: ");
  expect_one_error_line(program("pcnn-prune", "m.onnx"), 2, "pcnn-prune: command line: ");
  expect_one_error_line(program("pcnn-prune", "m.onnx -o out --n 0"), 2, "pcnn-prune: --n: ");
  expect_one_error_line(program("pcnn-prune", "/nonexistent.onnx -o /tmp/pcnn-cli-common-out"), 1,
                        "pcnn-prune: /nonexistent.onnx: ");
  expect_one_error_line(program("pcnn-sim", ""), 2, "pcnn-sim: command line: ");
  expect_one_error_line(program("pcnn-sim", "simulate"), 2, "pcnn-sim: command line: ");
  expect_one_error_line(program("pcnn-sim", "run dir --act-mode fast"), 2,
                        "pcnn-sim: --act-mode: ");
  expect_one_error_line(program("pcnn-sim", "run dir --vcd-window 9:1 --vcd x.vcd"), 2,
                        "pcnn-sim: --vcd-window: ");
  expect_one_error_line(program("pcnn-sim", "run /nonexistent-images"), 1,
                        "pcnn-sim: /nonexistent-images");
  expect_one_error_line(program("pcnn-sim", "sweep s.json -j 0"), 2, "pcnn-sim: -j: ");
  expect_one_error_line(program("pcnn-sim", "sweep /nonexistent-sweep.json"), 1,
                        "pcnn-sim: /nonexistent-sweep.json");
}

TEST_CASE("run_program maps exceptions to one line and the exit status", "[cli]") {
  CHECK(pcnn::run_program("p", [] { return 0; }) == 0);
  CHECK(pcnn::run_program("p", [] { return 3; }) == 3);
  CHECK(pcnn::run_program("p", []() -> int { throw pcnn::UsageError("--x", "bad"); }) == 2);
  CHECK(pcnn::run_program("p", []() -> int { throw pcnn::Error("f", "bad"); }) == 1);
  CHECK(pcnn::run_program("p", []() -> int { throw std::bad_alloc(); }) == 1);
  CHECK(pcnn::run_program("p", []() -> int { throw std::logic_error("x"); }) == 1);
}
