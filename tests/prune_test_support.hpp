#pragma once
// Helpers shared by the pruner and image tests: temporary directories,
// synthetic conv layers, running the built programs.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "pcnn/onnx/onnx_model.hpp"

namespace pcnn_test {

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string t = "/tmp/pcnn-test-XXXXXX";
    path_ = ::mkdtemp(t.data()) ? t : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline pcnn::FloatConv random_conv(const std::string& name, int index, int C, int M, int H, int kh,
                                   int kw, int group, bool bn, std::uint32_t seed) {
  pcnn::FloatConv c;
  c.name = name;
  c.index = index;
  c.geom.in_channels = C;
  c.geom.out_channels = M;
  c.geom.in_h = c.geom.in_w = H;
  c.geom.kernel_h = kh;
  c.geom.kernel_w = kw;
  c.geom.pad_top = c.geom.pad_bottom = kh / 2;
  c.geom.pad_left = c.geom.pad_right = kw / 2;
  c.geom.group = group;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.1f);
  c.weights.resize(static_cast<std::size_t>(c.geom.weight_count()));
  for (float& w : c.weights) w = nd(rng);
  c.bias.resize(static_cast<std::size_t>(M));
  for (float& b : c.bias) b = nd(rng);
  c.has_batchnorm = bn;
  if (bn) {
    std::uniform_real_distribution<float> us(0.5f, 1.5f);
    for (int m = 0; m < M; ++m) {
      c.bn_scale.push_back(us(rng));
      c.bn_shift.push_back(nd(rng));
    }
  }
  c.relu_follows = (index % 2) == 0;
  return c;
}

inline std::vector<std::uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr
};

// Runs a shell command line, capturing both streams.
inline Run run_command(const std::string& cmd) {
  Run r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, got);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string binary(const std::string& name) {
  return std::string(PCNN_BINARY_DIR) + "/" + name;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A .npy file (numpy's layout, version 1.0) of dtype `descr` ('<f4', '|u1', ...)
// and `shape`, holding `bytes` bytes of `data`.
inline void write_npy(const std::string& path, const std::string& descr,
                      const std::vector<std::int64_t>& shape, const void* data, std::size_t bytes) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string b("\x93NUMPY\x01\x00", 8);
  b.push_back(static_cast<char>(dict.size() & 0xff));
  b.push_back(static_cast<char>(dict.size() >> 8));
  b += dict;
  b.append(static_cast<const char*>(data), bytes);
  std::ofstream(path, std::ios::binary) << b;
}

struct RunResult {
  int status = -1;
  std::string out, err;
};

// Runs build/<program> with `args` (already quoted) under `timeout` (a hang fails
// the test instead of stalling it), stdout and stderr captured apart.
inline RunResult run_program(const TempDir& tmp, const std::string& program,
                             const std::string& args) {
  const std::string out = tmp / "stdout.txt", err = tmp / "stderr.txt";
  const std::string cmd =
      "timeout 120 " + binary(program) + " " + args + " > '" + out + "' 2> '" + err + "'";
  const int rc = std::system(cmd.c_str());
  RunResult r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// Names in a directory (to check that nothing was left behind).
inline std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pcnn_test
