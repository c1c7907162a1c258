// pcnn-prune --reuse-patterns (re-encoding a fine-tuned model on the pattern
// tables of an earlier report) and the projection-error warning.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "onnx_test_models.hpp"
#include "prune_test_support.hpp"

using nlohmann::json;
using pcnn_test::TempDir;

namespace {

pcnn_test::Run prune(const std::string& args) {
  return pcnn_test::run_command(pcnn_test::binary("pcnn-prune") + " " + args);
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

void write_json(const json& j, const std::string& path) { std::ofstream(path) << j.dump(2); }

}  // namespace

TEST_CASE("pcnn-prune --reuse-patterns keeps the report's pattern tables", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  const pcnn_test::Run first = prune(tmp / "m.onnx -o " + tmp / "a --n 2 --patterns 4");
  INFO(first.out);
  REQUIRE(first.status == 0);
  // Random weights lose far more than 10% of their norm at n = 2: the warning
  // names the tool on stdout and every layer in report.json.
  CHECK(first.out.find("warning: 2 of 2 layers") != std::string::npos);
  CHECK(first.out.find("tools/finetune") != std::string::npos);
  const json a = read_json(tmp / "a/report.json");
  REQUIRE(a["warnings"].size() == 2);
  CHECK(a["warnings"][0]["layer"] == "conv1");
  CHECK(a["layers"][1]["fine_tuning_advised"] == true);

  // The same model on its own tables: the same images, byte for byte.
  const pcnn_test::Run same =
      prune(tmp / "m.onnx -o " + tmp / "b --reuse-patterns " + tmp / "a/report.json");
  INFO(same.out);
  REQUIRE(same.status == 0);
  for (const char* f : {"weights.bin", "patterns.bin", "pattern_config.bin"})
    CHECK(pcnn_test::file_bytes(tmp / "a/" + f) == pcnn_test::file_bytes(tmp / "b/" + f));

  // The pruned model already lies on the patterns: nothing is removed, no warning,
  // and the tables are those of the report even where a fresh distillation could
  // order them differently.
  const pcnn_test::Run again =
      prune(tmp / "a/pruned.onnx -o " + tmp / "c --reuse-patterns " + tmp / "a/report.json");
  INFO(again.out);
  REQUIRE(again.status == 0);
  CHECK(again.out.find("warning") == std::string::npos);
  const json c = read_json(tmp / "c/report.json");
  CHECK(c["warnings"].empty());
  CHECK(c["totals"]["projection_error"].get<double>() == 0.0);
  CHECK(c["options"]["reuse_patterns"] == tmp / "a/report.json");
  for (std::size_t l = 0; l < 2; ++l) {
    CHECK(c["layers"][l]["n"] == 2);
    CHECK(c["layers"][l]["V"] == 4);
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(c["layers"][l]["kept_patterns"][i]["mask"] ==
            a["layers"][l]["kept_patterns"][i]["mask"]);
  }
}

TEST_CASE("pcnn-prune --reuse-patterns rejects reports that do not fit", "[prune]") {
  TempDir tmp;
  pcnn_test::save_model(pcnn_test::two_conv_model(), tmp / "m.onnx");
  REQUIRE(prune(tmp / "m.onnx -o " + tmp / "a --n 3 --patterns 8").status == 0);
  const json good = read_json(tmp / "a/report.json");
  auto expect = [&](const json& report, const std::string& extra, const std::string& message) {
    write_json(report, tmp / "r.json");
    const pcnn_test::Run r =
        prune(tmp / "m.onnx -o " + tmp / "out --reuse-patterns " + tmp / "r.json" + extra);
    INFO(r.out);
    CHECK(r.status != 0);
    CHECK(r.out.find(message) != std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(tmp / "out"));
  };
  expect(good, " --n 2", "--reuse-patterns: the report fixes the patterns; drop --n");
  expect(good, " --patterns full", "drop --patterns");
  json fewer = good;
  fewer["layers"].erase(1);
  expect(fewer, "", "holds 1 conv layers; the model has 2");
  json shape = good;
  shape["layers"][1]["shape"]["in_channels"] = 5;
  expect(shape, "", "layer 1: shape differs from the model's conv 'conv2' (in_channels 5");
  json bits = good;
  bits["layers"][0]["kept_patterns"][2]["mask"] = 7 + 8;
  expect(bits, "", "does not have exactly n = 3 of 9 bits");
  json twice = good;
  twice["layers"][0]["kept_patterns"][1]["mask"] = good["layers"][0]["kept_patterns"][0]["mask"];
  expect(twice, "", "repeats");
  expect(json{{"model", 1}}, "", "missing 'layers'");
  const pcnn_test::Run missing =
      prune(tmp / "m.onnx -o " + tmp / "out --reuse-patterns " + tmp / "none.json");
  CHECK(missing.status != 0);
  CHECK(missing.out.find("none.json: cannot open: No such file or directory") != std::string::npos);
}
