// The pcnn-zoo program: listing, writing, and its one-line errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>

#include "onnx/checker.h"
#include "onnx_test_support.hpp"

namespace {

struct Result {
  int status = 0;
  std::string output;  // stdout and stderr
};

Result zoo(const std::string& args) {
  const std::string cmd = std::string(PCNN_BINARY_DIR) + "/pcnn-zoo " + args + " 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

std::string row_of(const std::string& listing, const std::string& name) {
  std::size_t at = listing.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  const std::size_t end = listing.find('\n', at + 1);
  return listing.substr(at + 1, end - at - 1);
}

}  // namespace

TEST_CASE("pcnn-zoo --list shows the paper's conv counts", "[onnx]") {
  const Result r = zoo("--list");
  REQUIRE(r.status == 0);
  const std::string vgg = row_of(r.output, "vgg16-cifar");
  CHECK(vgg.find(" 13 ") != std::string::npos);
  CHECK(vgg.find("1.47e7") != std::string::npos);
  CHECK(vgg.find("3.13e8") != std::string::npos);
  const std::string res = row_of(r.output, "resnet18-cifar");
  CHECK(res.find(" 20 ") != std::string::npos);
  CHECK(res.find("1.12e7") != std::string::npos);
  CHECK(res.find("5.55e8") != std::string::npos);
  CHECK(row_of(r.output, "vgg16-imagenet").find("1.53e10") != std::string::npos);
  CHECK(row_of(r.output, "resnet18-imagenet").find("1.81e9") != std::string::npos);
}

TEST_CASE("pcnn-zoo writes a checked model and reports bad arguments in one line", "[onnx]") {
  pcnn_test::ScratchDir dir;
  const std::string out = dir.file("r.onnx");
  REQUIRE(zoo("resnet18-cifar -o '" + out + "' --seed 12").status == 0);
  CHECK_NOTHROW(onnx::checker::check_model(out));

  const auto one_line_error = [](const Result& r, const std::string& what) {
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.rfind("pcnn-zoo: ", 0) == 0);
    CHECK(r.output.find(what) != std::string::npos);
    CHECK(r.output.find('\n') == r.output.size() - 1);
  };
  one_line_error(zoo("alexnet -o '" + dir.file("a.onnx") + "'"), "alexnet: unknown model");
  one_line_error(zoo("vgg16-cifar"), "--output: missing output file");
  one_line_error(zoo("vgg16-cifar -o '" + dir.file("s.onnx") + "' --seed -3"),
                 "--seed: '-3' is not an integer");
  one_line_error(zoo("vgg16-cifar -o '" + dir.file("no/such/dir/m.onnx") + "'"),
                 "cannot write --output: folder '" + dir.file("no/such/dir") +
                     "': No such file or directory");
  CHECK_FALSE(std::filesystem::exists(dir.file("a.onnx")));
  CHECK_FALSE(std::filesystem::exists(dir.file("s.onnx")));
  CHECK(zoo("--help").status == 0);
}
