// A tiny classifier (conv c1 - ReLU - Flatten - Gemm fc) pruned by pcnn-prune
// with calibration, so its images come with network.json and network.bin.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "pcnn/onnx/model_builder.hpp"
#include "prune_test_support.hpp"

namespace pcnn_test {

// Writes TMP/cls.onnx and prunes it into TMP/img; returns TMP/img.
inline std::string prune_small_classifier(const TempDir& tmp) {
  pcnn::ModelBuilder b("cls", {1, 3, 8, 8}, 6);
  b.gemm(b.flatten(b.relu(b.conv(b.input(), 4, {}, "c1"))), 3, "fc");
  b.write(tmp / "cls.onnx");
  REQUIRE(
      run_command(binary("pcnn-prune") + " " + tmp / "cls.onnx -o " + tmp / "img --calib-samples 2")
          .status == 0);
  return tmp / "img";
}

}  // namespace pcnn_test
