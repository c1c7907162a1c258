// Outputs never destroy what is not theirs (docs/outputs.md): links are written
// through, devices and FIFOs are written directly, a planted link at a
// temporary name is never followed, an output never overwrites an input, every
// output is checked before the work, and a terminating signal leaves no
// temporary behind.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/image/model_images.hpp"
#include "one_layer_images.hpp"
#include "prune_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using pcnn_test::listing;
using pcnn_test::run_program;
using pcnn_test::RunResult;
using pcnn_test::slurp;
using pcnn_test::TempDir;
using pcnn_test::write_text;

std::string make_images(const std::string& dir) {
  return pcnn_test::write_one_layer_images(dir, 4, 6, 8, 5);
}

bool is_link(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

TEST_CASE("output file: appears whole on commit, keeps the mode of the file it replaces",
          "[core][outputs]") {
  TempDir tmp;
  const std::string p = tmp / "r.txt";
  {
    pcnn::OutputFile out(p, "the result");
    out.write("half");
    CHECK(!fs::exists(p));  // nothing at the target before commit
    CHECK(listing(tmp.path()).size() == 1);
    CHECK(listing(tmp.path())[0].rfind(".r.txt.pcnn-tmp-", 0) == 0);
  }  // no commit: the temporary goes, the target never appeared
  CHECK(listing(tmp.path()).empty());

  write_text(p, "old");
  ::chmod(p.c_str(), 0640);
  {
    pcnn::OutputFile out(p, "the result");
    out.printf("%s %d", "new", 42);
    out.write(std::string(200000, 'x'));  // beyond the buffer
  }
  CHECK(slurp(p) == "old");  // an uncommitted write leaves the old content
  pcnn::write_output_file(p, "new content", "the result");
  CHECK(slurp(p) == "new content");
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(listing(tmp.path()) == std::vector<std::string>{"r.txt"});
}

TEST_CASE("output file: a symlink is written through, a device and a FIFO directly",
          "[core][outputs]") {
  TempDir tmp;
  write_text(tmp / "victim", "old");
  REQUIRE(::symlink("victim", (tmp / "link").c_str()) == 0);
  pcnn::write_output_file(tmp / "link", "through the link", "the result");
  CHECK(is_link(tmp / "link"));
  CHECK(slurp(tmp / "victim") == "through the link");

  // A link to a file that does not exist yet creates that file.
  REQUIRE(::symlink("later", (tmp / "dangling").c_str()) == 0);
  pcnn::write_output_file(tmp / "dangling", "created", "the result");
  CHECK(is_link(tmp / "dangling"));
  CHECK(slurp(tmp / "later") == "created");

  pcnn::write_output_file("/dev/null", "nothing", "the result");
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));

  const std::string fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] { received = slurp(fifo); });
  pcnn::write_output_file(fifo, "via the fifo", "the result");
  reader.join();
  CHECK(received == "via the fifo");
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(listing(tmp.path()) ==
        std::vector<std::string>{"dangling", "fifo", "later", "link", "victim"});
}

TEST_CASE("output file: refused paths name the output and the reason", "[core][outputs]") {
  TempDir tmp;
  auto message = [](const std::string& path) {
    try {
      pcnn::check_output_path(path, "--json");
    } catch (const pcnn::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message(tmp.path()) == tmp.path() + ": cannot write --json: is a directory");
  CHECK(message(tmp / "no/r.json") ==
        tmp / "no/r.json: cannot write --json: folder '" + tmp / "no': No such file or directory");
  write_text(tmp / "file", "x");
  CHECK(message(tmp / "file/r.json").find("'" + tmp / "file' is not a folder") !=
        std::string::npos);
  CHECK(message("-") == "accepted");
  CHECK(message(tmp / "new.json") == "accepted");
  REQUIRE(::symlink("loop", (tmp / "loop").c_str()) == 0);
  CHECK(message(tmp / "loop").find("Too many levels of symbolic links") != std::string::npos);
}

TEST_CASE("output file: SIGINT and SIGTERM remove live temporaries", "[core][outputs]") {
  for (const int sig : {SIGINT, SIGTERM}) {
    TempDir tmp;
    write_text(tmp / "keep.json", "old");
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      std::signal(SIGINT, SIG_DFL);  // as in a program: the test framework's handlers go
      std::signal(SIGTERM, SIG_DFL);
      pcnn::OutputFile a(tmp / "keep.json", "a");
      pcnn::OutputFile b(tmp / "new.json", "b");
      a.write("partial");
      b.write("partial");
      a.flush();
      b.flush();
      ::raise(sig);
      ::_exit(0);  // not reached: the signal ends the process
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));  // the process still dies of the signal
    CHECK(WTERMSIG(status) == sig);
    CHECK(listing(tmp.path()) == std::vector<std::string>{"keep.json"});
    CHECK(slurp(tmp / "keep.json") == "old");
  }
}

TEST_CASE("outputs apart from inputs: same file, hard link, inside a folder, each other",
          "[core][outputs]") {
  TempDir tmp;
  write_text(tmp / "a.json", "{}");
  REQUIRE(::link((tmp / "a.json").c_str(), (tmp / "hard.json").c_str()) == 0);
  REQUIRE(::symlink("a.json", (tmp / "soft.json").c_str()) == 0);
  ::mkdir((tmp / "img").c_str(), 0755);
  auto message = [](const std::vector<pcnn::RunPath>& in, const std::vector<pcnn::RunPath>& out) {
    try {
      pcnn::check_outputs_apart(in, out);
    } catch (const pcnn::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const pcnn::RunPath a{tmp / "a.json", "SWEEP"};
  CHECK(message({a}, {{tmp / "a.json", "-o"}}) ==
        tmp / "a.json: -o is the same file as the input SWEEP '" +
            tmp / "a.json'; refusing to overwrite it");
  CHECK(message({a}, {{tmp / "hard.json", "-o"}}).find("same file") != std::string::npos);
  CHECK(message({a}, {{tmp / "soft.json", "-o"}}).find("same file") != std::string::npos);
  CHECK(message({a}, {{tmp / "./x/../a.json", "-o"}}).find("same file") != std::string::npos);
  CHECK(message({{tmp / "img", "IMAGES_DIR"}}, {{tmp / "img/manifest.json", "--json"}})
            .find("lies inside the input IMAGES_DIR") != std::string::npos);
  CHECK(message({{tmp / "img/model.onnx", "MODEL"}}, {{tmp / "img", "-o"}})
            .find("would hold the input MODEL") != std::string::npos);
  CHECK(message({}, {{tmp / "x", "--vcd"}, {tmp / "x", "--json"}})
            .find("--json is the same file as the output --vcd") != std::string::npos);
  CHECK(message({}, {{"-", "--vcd"}, {"-", "--json"}}).find("standard output") !=
        std::string::npos);
  CHECK(message({a}, {{tmp / "b.json", "-o"}, {"/dev/null", "--vcd"}, {"/dev/null", "--json"}}) ==
        "accepted");
  CHECK(message({{"", "--arch"}, a}, {{"-", "--json"}}) == "accepted");
}

TEST_CASE("pcnn-sim run: outputs are checked before the run and never overwrite an input",
          "[sim][cli][outputs]") {
  TempDir tmp;
  const std::string images = make_images(tmp / "images");
  const std::string manifest = slurp(images + "/manifest.json");
  const std::string run = "run '" + images + "' --no-dense";

  // An unwritable output is found before the simulation: no table is printed.
  RunResult r = run_program(tmp, "pcnn-sim", run + " --json '" + tmp.path() + "/no/r.json'");
  CHECK(r.status != 0);
  CHECK(r.out.empty());
  CHECK(r.err == "pcnn-sim: " + tmp.path() + "/no/r.json: cannot write --json: folder '" +
                     tmp.path() + "/no': No such file or directory\n");

  r = run_program(tmp, "pcnn-sim", run + " --json '" + images + "/manifest.json'");
  CHECK(r.status != 0);
  CHECK(r.err.find("--json lies inside the input IMAGES_DIR") != std::string::npos);
  CHECK(slurp(images + "/manifest.json") == manifest);

  r = run_program(tmp, "pcnn-sim",
                  run + " --vcd '" + tmp.path() + "/x' --json '" + tmp.path() + "/x'");
  CHECK(r.status != 0);
  CHECK(r.err.find("is the same file as the output --json") != std::string::npos);
  CHECK(!fs::exists(tmp / "x"));

  // A link planted at the old fixed temporary name is never followed.
  write_text(tmp / "victim", "precious");
  REQUIRE(::symlink((tmp / "victim").c_str(), (tmp / "r.json.tmp").c_str()) == 0);
  REQUIRE(::symlink((tmp / "victim").c_str(), (tmp / "t.vcd.tmp").c_str()) == 0);
  r = run_program(tmp, "pcnn-sim",
                  run + " --json '" + tmp / "r.json" + "' --vcd '" + tmp / "t.vcd" + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(slurp(tmp / "victim") == "precious");
  CHECK(slurp(tmp / "r.json").find("\"pcnn-sim\"") != std::string::npos);
  CHECK(slurp(tmp / "t.vcd").find("$enddefinitions") != std::string::npos);

  // The result through a symlink and to standard output.
  REQUIRE(::symlink("victim", (tmp / "result-link").c_str()) == 0);
  r = run_program(tmp, "pcnn-sim", run + " --json '" + tmp / "result-link" + "'");
  CHECK(r.status == 0);
  CHECK(is_link(tmp / "result-link"));
  CHECK(slurp(tmp / "victim").find("\"pcnn-sim\"") != std::string::npos);
  r = run_program(tmp, "pcnn-sim", run + " --json -");
  CHECK(r.status == 0);
  CHECK(r.out.find("\"tool\": \"pcnn-sim\"") != std::string::npos);
  CHECK(!fs::exists(tmp / "-"));

  // A FIFO is written, not replaced by a regular file.
  const std::string fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] { received = slurp(fifo); });
  r = run_program(tmp, "pcnn-sim", run + " --json '" + fifo + "'");
  reader.join();
  CHECK(r.status == 0);
  CHECK(received.find("\"tool\": \"pcnn-sim\"") != std::string::npos);
  struct stat st {};
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("pcnn-sim sweep: -o naming the sweep file is refused", "[sweep][cli][outputs]") {
  TempDir tmp;
  make_images(tmp / "tiny");
  const std::string sweep = R"({"workloads": [{"images": "tiny"}], "dense_baseline": false})";
  write_text(tmp / "s.json", sweep);
  const RunResult r = run_program(
      tmp, "pcnn-sim", "sweep '" + tmp / "s.json" + "' -j 1 -o '" + tmp / "s.json" + "'");
  CHECK(r.status != 0);
  CHECK(r.err.find("-o is the same file as the input SWEEP.json") != std::string::npos);
  CHECK(slurp(tmp / "s.json") == sweep);
}

TEST_CASE("pcnn-zoo -o: written through a symlink, a directory refused", "[onnx][cli][outputs]") {
  TempDir tmp;
  write_text(tmp / "victim", "old");
  REQUIRE(::symlink("victim", (tmp / "m.onnx").c_str()) == 0);
  RunResult r = run_program(tmp, "pcnn-zoo", "vgg16-cifar -o '" + tmp / "m.onnx" + "'");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(is_link(tmp / "m.onnx"));
  const std::string model = slurp(tmp / "victim");
  CHECK(model.size() > 1000000);

  r = run_program(tmp, "pcnn-zoo", "vgg16-cifar -o '" + tmp.path() + "'");
  CHECK(r.status != 0);
  CHECK(r.err == "pcnn-zoo: " + tmp.path() + ": cannot write --output: is a directory\n");
}
