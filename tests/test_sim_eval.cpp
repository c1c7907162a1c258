// pcnn-sim eval and its parts: the idx reader (plain and gzip, every way a file
// can be bad) and classifier accuracy through the golden network executor, on
// a tiny network whose test images and labels are written here as idx files.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/classifier_accuracy.hpp"
#include "pcnn/network/idx_file.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "prune_test_support.hpp"

using pcnn_test::TempDir;

namespace {

std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims,
                                    const std::vector<std::uint8_t>& values,
                                    std::uint8_t type = 0x08) {
  std::vector<std::uint8_t> b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pcnn::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A tiny classifier on 8x8 grey images, pruned by pcnn-prune (network.json on
// random calibration), and `count` seeded test images as uint8 pixels.
struct TinySet {
  TempDir tmp;
  std::string images_dir;
  std::vector<std::uint8_t> pixels;
  int count = 0;
};

void make_tiny(TinySet& t, int count) {
  pcnn::ModelBuilder b("tiny", {1, 1, 8, 8}, 3);
  std::string x = b.relu(b.conv(b.input(), 6));
  x = b.max_pool(b.relu(b.conv(x, 8)), 2, 2);
  b.gemm(b.flatten(x), 10);
  b.write(t.tmp / "tiny.onnx");
  const pcnn_test::Run r =
      pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + t.tmp / "tiny.onnx" + " -o " +
                             t.tmp / "p" + " --n 4 --patterns 8 --calib-samples 8");
  INFO(r.out);
  REQUIRE(r.status == 0);
  t.images_dir = t.tmp / "p";
  t.count = count;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> px(0, 255);
  t.pixels.resize(static_cast<std::size_t>(count) * 64);
  for (auto& p : t.pixels) p = static_cast<std::uint8_t>(px(rng));
}

// Golden ranking of every image, computed with the library directly.
std::vector<std::vector<int>> golden_ranks(const TinySet& t) {
  const pcnn::GoldenNetwork net = pcnn::GoldenNetwork::load(t.images_dir);
  std::vector<std::vector<int>> ranks;
  for (int i = 0; i < t.count; ++i) {
    std::vector<float> x(64);
    for (int k = 0; k < 64; ++k) x[k] = t.pixels[static_cast<std::size_t>(i) * 64 + k] / 255.0f;
    ranks.push_back(pcnn::top_k(net.run(net.quantise_input(x)).values, 10));
  }
  return ranks;
}

}  // namespace

TEST_CASE("idx files are read plain and gzip-compressed", "[eval][idx]") {
  TempDir tmp;
  const std::vector<std::uint8_t> values{1, 2, 3, 4, 5, 6};
  write_bytes(tmp / "a.idx", idx_bytes({3, 2}, values));
  write_bytes(tmp / "a.idx.gz", gzip(idx_bytes({3, 2}, values)));
  for (const std::string name : {"a.idx", "a.idx.gz"}) {
    const pcnn::IdxArray a = pcnn::read_idx_file(tmp / name);
    CHECK(a.dims == std::vector<std::int64_t>{3, 2});
    CHECK(a.values == values);
  }
  CHECK(pcnn::find_idx_file(tmp.path(), "a.idx") == tmp / "a.idx.gz");
  std::remove((tmp / "a.idx.gz").c_str());
  CHECK(pcnn::find_idx_file(tmp.path(), "a.idx") == tmp / "a.idx");
  CHECK(error_of([&] { pcnn::find_idx_file(tmp.path(), "b"); }) ==
        tmp.path() + ": has neither b.gz nor b");
  CHECK(error_of([&] { pcnn::find_idx_file(tmp / "none", "b"); }) ==
        tmp / "none" + ": no such dataset folder");
}

TEST_CASE("bad idx files are refused naming the file and the fault", "[eval][idx]") {
  TempDir tmp;
  const std::string f = tmp / "bad";
  auto fault = [&](const std::vector<std::uint8_t>& bytes) {
    write_bytes(f, bytes);
    return error_of([&] { pcnn::read_idx_file(f); });
  };
  CHECK(error_of([&] { pcnn::read_idx_file(tmp / "missing"); }) ==
        tmp / "missing" + ": cannot open the idx file: No such file or directory");
  CHECK(fault({}) == f + ": not an idx file (it does not start with two zero bytes)");
  CHECK(fault({'P', 'K', 3, 4}) == f + ": not an idx file (it does not start with two zero bytes)");
  CHECK(fault(idx_bytes({2}, {1, 2}, 0x0d)) ==
        f + ": idx element type 0x0d is not unsigned byte (0x08), the only type read");
  CHECK(fault({0, 0, 8, 0}) == f + ": idx header has no dimensions");
  CHECK(fault({0, 0, 8, 3, 0, 0, 0, 1}) ==
        f + ": truncated idx header (3 dimensions need 16 bytes, the file has 8)");
  CHECK(fault(idx_bytes({2, 3}, {1, 2, 3})) ==
        f + ": idx data is 3 bytes, its header declares 6 (truncated)");
  CHECK(fault(idx_bytes({2}, {1, 2, 3})) == f + ": idx data is 3 bytes, its header declares 2");
  CHECK(fault(idx_bytes({65536, 65536}, {})) ==
        f + ": idx header declares more than 1073741824 values");
  // gzip: cut short, and a damaged deflate stream.
  std::vector<std::uint8_t> z = gzip(idx_bytes({100}, std::vector<std::uint8_t>(100, 7)));
  CHECK(fault(std::vector<std::uint8_t>(z.begin(), z.begin() + 12)) == f + ": truncated gzip data");
  std::vector<std::uint8_t> damaged = z;
  damaged[3] = 0xff;  // reserved flag bits set
  CHECK(fault(damaged).rfind(f + ": corrupt gzip data", 0) == 0);
  CHECK(error_of([&] { pcnn::read_idx_file(tmp.path()); }).rfind(tmp.path() + ": ", 0) == 0);
}

TEST_CASE("an idx image set and its labels must agree", "[eval][idx]") {
  TempDir tmp;
  write_bytes(tmp / "img", idx_bytes({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}));
  write_bytes(tmp / "lab", idx_bytes({2}, {1, 0}));
  write_bytes(tmp / "lab3", idx_bytes({3}, {1, 0, 2}));
  write_bytes(tmp / "flat", idx_bytes({8}, {0, 1, 2, 3, 4, 5, 6, 7}));
  const pcnn::LabelledImages s = pcnn::read_idx_dataset(tmp / "img", tmp / "lab");
  CHECK(s.count == 2);
  CHECK(s.height == 2);
  CHECK(s.width == 2);
  CHECK(s.labels == std::vector<std::uint8_t>{1, 0});
  CHECK(pcnn::image_input(s, 1) ==
        std::vector<float>{4 / 255.0f, 5 / 255.0f, 6 / 255.0f, 7 / 255.0f});
  CHECK(error_of([&] { pcnn::read_idx_dataset(tmp / "img", tmp / "lab3"); }) ==
        tmp / "lab3" + ": holds 3 labels for the 2 images of " + tmp / "img");
  CHECK(error_of([&] { pcnn::read_idx_dataset(tmp / "flat", tmp / "lab"); }) ==
        tmp / "flat" + ": has 1 dimensions; images are [N][H][W] (3)");
  CHECK(error_of([&] { pcnn::read_idx_dataset(tmp / "img", tmp / "img"); }) ==
        tmp / "img" + ": has 3 dimensions; labels are [N] (1)");
}

TEST_CASE("pcnn-sim eval scores the golden network on idx test images", "[eval][cli]") {
  TinySet t;
  make_tiny(t, 40);
  const std::vector<std::vector<int>> ranks = golden_ranks(t);
  // Labels: the golden's class for images 0..29; for 30..34 its second choice
  // (top-5 hit, top-1 miss), for 35..39 its last (a miss of both).
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < t.count; ++i)
    labels.push_back(static_cast<std::uint8_t>(i < 30   ? ranks[i][0]
                                               : i < 35 ? ranks[i][1]
                                                        : ranks[i][9]));
  write_bytes(t.tmp / "t10k-images-idx3-ubyte.gz", gzip(idx_bytes({40, 8, 8}, t.pixels)));
  write_bytes(t.tmp / "t10k-labels-idx1-ubyte", idx_bytes({40}, labels));

  const pcnn_test::RunResult r =
      pcnn_test::run_program(t.tmp, "pcnn-sim",
                             "eval " + t.images_dir + " --dataset fashion-mnist --dataset-dir " +
                                 t.tmp.path() + " -j 3 --json " + t.tmp / "eval.json" +
                                 " --float-model " + t.images_dir + "/pruned.onnx");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("int8 golden        40    75.00    87.50") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(pcnn_test::slurp(t.tmp / "eval.json"));
  CHECK(j["int8_golden"]["images"] == 40);
  CHECK(j["int8_golden"]["top1_correct"] == 30);
  CHECK(j["int8_golden"]["top5_correct"] == 35);
  CHECK(j["dataset"]["images_file"] == t.tmp / "t10k-images-idx3-ubyte.gz");
  CHECK(j["float"]["images"] == 40);
  // The float model of the pruned weights agrees with the int8 network on most images.
  CHECK(j["float"]["top1_correct"].get<int>() >= 24);

  // --limit scores the first N; one thread gives the same figures.
  const pcnn_test::RunResult l = pcnn_test::run_program(
      t.tmp, "pcnn-sim",
      "eval " + t.images_dir + " --idx-images " + t.tmp / "t10k-images-idx3-ubyte.gz" +
          " --idx-labels " + t.tmp / "t10k-labels-idx1-ubyte --limit 33 --json " +
          t.tmp / "l.json");
  INFO(l.out << l.err);
  REQUIRE(l.status == 0);
  const nlohmann::json lj = nlohmann::json::parse(pcnn_test::slurp(t.tmp / "l.json"));
  CHECK(lj["int8_golden"]["images"] == 33);
  CHECK(lj["int8_golden"]["top1_correct"] == 30);
  CHECK(lj["int8_golden"]["top5_correct"] == 33);
}

TEST_CASE("pcnn-sim eval --simulate runs images on the accelerator bit for bit", "[eval][cli]") {
  TinySet t;
  make_tiny(t, 6);
  const std::vector<std::vector<int>> ranks = golden_ranks(t);
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < t.count; ++i)
    labels.push_back(static_cast<std::uint8_t>(i == 1 ? ranks[i][3] : ranks[i][0]));
  write_bytes(t.tmp / "img", idx_bytes({6, 8, 8}, t.pixels));
  write_bytes(t.tmp / "lab", idx_bytes({6}, labels));
  const pcnn_test::RunResult r = pcnn_test::run_program(
      t.tmp, "pcnn-sim",
      "eval " + t.images_dir + " --idx-images " + t.tmp / "img" + " --idx-labels " + t.tmp / "lab" +
          " --simulate 4 -j 2 --json " + t.tmp / "eval.json");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("cycle-level: all 4 images bit-exact with the golden network") !=
        std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(pcnn_test::slurp(t.tmp / "eval.json"));
  const nlohmann::json& c = j["cycle_level"];
  CHECK(c["images"] == 4);
  CHECK(c["top1_correct"] == 3);  // image 1's label is the golden's fourth choice
  CHECK(j["int8_golden"]["top1_correct"] == 5);

  // One image: the cycles and energy of `pcnn-sim run --network` on the same input.
  std::string pgm = "P5\n8 8\n255\n";
  pgm.append(t.pixels.begin(), t.pixels.begin() + 64);
  pcnn_test::write_text(t.tmp / "img0.pgm", pgm);
  const pcnn_test::RunResult one = pcnn_test::run_program(
      t.tmp, "pcnn-sim",
      "eval " + t.images_dir + " --idx-images " + t.tmp / "img" + " --idx-labels " + t.tmp / "lab" +
          " --limit 1 --simulate 1 --json " + t.tmp / "one.json");
  REQUIRE(one.status == 0);
  const pcnn_test::RunResult run =
      pcnn_test::run_program(t.tmp, "pcnn-sim",
                             "run " + t.images_dir + " --network --input " + t.tmp / "img0.pgm" +
                                 " --no-dense --json " + t.tmp / "run.json");
  INFO(run.out << run.err);
  REQUIRE(run.status == 0);
  const nlohmann::json e = nlohmann::json::parse(pcnn_test::slurp(t.tmp / "one.json"));
  const nlohmann::json n = nlohmann::json::parse(pcnn_test::slurp(t.tmp / "run.json"));
  CHECK(e["cycle_level"]["cycles"] == n["total"]["cycles"]);
  CHECK(e["cycle_level"]["cycles"].get<std::uint64_t>() > 0);
  CHECK(e["cycle_level"]["energy_uj_per_image"].get<double>() ==
        Approx(n["total"]["energy_per_inference_uj"].get<double>()));
}

TEST_CASE("pcnn-sim eval refuses bad image sets and options with one line", "[eval][cli]") {
  TinySet t;
  make_tiny(t, 4);
  const std::string img = t.tmp / "img.idx", lab = t.tmp / "lab.idx";
  write_bytes(img, idx_bytes({4, 8, 8}, t.pixels));
  write_bytes(lab, idx_bytes({4}, {1, 2, 3, 4}));
  write_bytes(t.tmp / "lab-high", idx_bytes({4}, {1, 2, 10, 4}));
  write_bytes(t.tmp / "img-small", idx_bytes({4, 4, 4}, std::vector<std::uint8_t>(64, 1)));
  std::vector<std::uint8_t> z = gzip(idx_bytes({4, 8, 8}, t.pixels));
  z.resize(z.size() / 2);
  write_bytes(t.tmp / "img-cut.gz", z);
  struct Case {
    std::string args;
    int status;
    std::string message;
  };
  const std::string dir = t.images_dir;
  const std::vector<Case> cases = {
      {"eval " + dir + " --idx-images " + t.tmp / "none" + " --idx-labels " + lab, 1,
       t.tmp / "none" + ": cannot open the idx file: No such file or directory"},
      {"eval " + dir + " --idx-images " + t.tmp / "img-cut.gz" + " --idx-labels " + lab, 1,
       t.tmp / "img-cut.gz" + ": truncated gzip data"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + t.tmp / "lab-high", 1,
       t.tmp / "lab-high" + ": label 10 of image 2 is not below the 10 classes of the network"},
      {"eval " + dir + " --idx-images " + t.tmp / "img-small" + " --idx-labels " + lab, 1,
       "golden network: the network takes 1x1x8x8; the images of " + t.tmp / "img-small" +
           " are 4x4 grey (1x1x4x4)"},
      {"eval " + dir + " --dataset fashion-mnist --dataset-dir " + t.tmp / "nothing", 1,
       t.tmp / "nothing" + ": no such dataset folder"},
      {"eval " + dir + " --dataset cifar", 2,
       "--dataset: unknown image set 'cifar' (known: fashion-mnist; or give --idx-images and "
       "--idx-labels)"},
      {"eval " + dir, 2,
       "command line: no image set: give --dataset fashion-mnist or --idx-images and --idx-labels"},
      {"eval " + dir + " --idx-images " + img, 2,
       "--idx-images: needs --idx-labels and the other way round"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --dataset fashion-mnist",
       2, "--idx-images: excludes --dataset, --dataset-dir and --split (the files are named)"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --limit 0", 2,
       "--limit: must be at least 1"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " -j 0", 2,
       "--jobs: must be in 1..256"},
      {"eval " + dir + " --dataset fashion-mnist --split val", 2,
       "--split: 'val' is neither test nor train"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --simulate 0", 2,
       "--simulate: must be at least 1"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --limit 2 --simulate 3",
       2, "--simulate: 3 images, more than the 2 scored"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --act-mode skip", 2,
       "--act-mode: needs --simulate N"},
      {"eval " + dir + " --idx-images " + img + " --idx-labels " + lab + " --arch a.json", 2,
       "--arch: needs --simulate N"},
      {"eval " + t.tmp / "nope" + " --idx-images " + img + " --idx-labels " + lab, 1,
       t.tmp / "nope"},
  };
  for (const Case& c : cases) {
    const pcnn_test::RunResult r = pcnn_test::run_program(t.tmp, "pcnn-sim", c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.status == c.status);
    CHECK(r.err.rfind("pcnn-sim: " + c.message, 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}
