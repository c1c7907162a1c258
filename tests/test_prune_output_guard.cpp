// pcnn-prune -o DIR replaces DIR only when it is provably an image set this
// program wrote; anything else is refused and left exactly as it was.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "onnx_test_models.hpp"
#include "pcnn/image/staging_dir.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

namespace fs = std::filesystem;

pcnn_test::Run prune(const std::string& args) {
  return pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + args);
}

// Listing of every file under `dir` with its content: what must not change.
std::vector<std::string> snapshot(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string line = e.path().string();
    if (e.is_regular_file()) {
      const auto bytes = pcnn_test::file_bytes(e.path().string());
      line += " " + std::string(bytes.begin(), bytes.end());
    }
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expect_refused(const std::string& args, const std::string& dir, const std::string& expected) {
  const std::vector<std::string> before = snapshot(fs::path(dir).parent_path().string());
  const pcnn_test::Run r = prune(args);
  INFO("pcnn-prune " << args << "\n" << r.out);
  CHECK(r.status == 1);
  CHECK(r.out == "pcnn-prune: " + expected + "\n");
  CHECK(snapshot(fs::path(dir).parent_path().string()) == before);
}

}  // namespace

TEST_CASE("pcnn-prune -o refuses a folder that is not its own image set", "[prune][outputs]") {
  TempDir tmp;
  const std::string model = tmp / "m.onnx";
  pcnn_test::save_model(pcnn_test::two_conv_model(), model);
  const std::string m = model + " --calib-samples 0 -o ";

  // A file called manifest.json is not enough: it must describe an image set.
  const std::string d = tmp / "data";
  fs::create_directories(d + "/sub");
  std::ofstream(d + "/manifest.json") << R"({"name": "my data"})";
  std::ofstream(d + "/sub/results.csv") << "a,b\n";
  pcnn_test::save_model(pcnn_test::two_conv_model(), d + "/model.onnx");
  expect_refused(m + d, d,
                 d + ": exists, is not empty and its manifest.json does not describe a "
                     "'pcnn-spm-images' image set; refusing to replace it");
  // The input model inside the output folder.
  expect_refused(
      d + "/model.onnx --calib-samples 0 -o " + d, d,
      d + ": -o would hold the input MODEL '" + d + "/model.onnx'; refusing to replace it");

  // A real earlier output with one file added by the user.
  const std::string out = tmp / "out";
  REQUIRE(prune(m + out).status == 0);
  std::ofstream(out + "/notes.txt") << "mine";
  expect_refused(m + out, out,
                 out +
                     ": holds 'notes.txt', which this program did not write; refusing to "
                     "replace it");
  fs::remove(out + "/notes.txt");
  fs::create_directory(out + "/plots");
  expect_refused(m + out, out,
                 out + ": holds 'plots', which this program did not write; refusing to replace it");
  fs::remove(out + "/plots");

  // A symlink to an earlier output is not replaced either.
  REQUIRE(::symlink("out", (tmp / "link").c_str()) == 0);
  expect_refused(m + tmp / "link", tmp / "link",
                 tmp / "link: is a symlink; refusing to replace it");

  // The program's own earlier output, and an empty folder, are replaced.
  const pcnn_test::Run again = prune(m + out);
  INFO(again.out);
  CHECK(again.status == 0);
  fs::create_directory(tmp / "empty");
  CHECK(prune(m + tmp / "empty").status == 0);
  CHECK(pcnn_test::listing(tmp.path()) ==
        std::vector<std::string>{"data", "empty", "link", "m.onnx", "out"});
}

TEST_CASE("pcnn-prune staging folder is removed on SIGINT and SIGTERM", "[prune][outputs]") {
  for (const int sig : {SIGINT, SIGTERM}) {
    TempDir tmp;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      std::signal(SIGINT, SIG_DFL);  // as in a program: the test framework's handlers go
      std::signal(SIGTERM, SIG_DFL);
      pcnn::StagingDirectory staging(tmp / "out");
      pcnn::write_file_synced(staging.file("weights.bin"), "partial");
      pcnn::write_file_synced(staging.file("manifest.json"), "{");
      ::raise(sig);
      ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(pcnn_test::listing(tmp.path()).empty());
  }
}

TEST_CASE("pcnn-prune runs in parallel into sibling outputs of one folder", "[prune][outputs]") {
  // Each run stages in its own uniquely named hidden folder and touches nothing
  // else in the shared parent, so parallel runs (accuracy_table.py -j 2) cannot
  // disturb each other (relative -o paths, as that script passes them).
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  fs::create_directory(tmp / "shared");
  const std::string cd = "cd '" + tmp.path() + "' && ";
  std::string cmd = cd + "( ";
  for (int k = 0; k < 4; ++k)
    cmd += pcnn_test::binary("pcnn-prune") + " m.onnx --calib-samples 0 -o shared/out" +
           std::to_string(k) + " > log" + std::to_string(k) + " 2>&1 & p" + std::to_string(k) +
           "=$! ; ";
  cmd += "fail=0; for p in $p0 $p1 $p2 $p3; do wait $p || fail=1; done; cat log*; exit $fail )";
  const pcnn_test::Run r = pcnn_test::run_command(cmd);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(pcnn_test::listing(tmp / "shared") ==
        std::vector<std::string>{"out0", "out1", "out2", "out3"});
  for (int k = 0; k < 4; ++k)
    CHECK(fs::exists(tmp / ("shared/out" + std::to_string(k)) + "/report.json"));
}
