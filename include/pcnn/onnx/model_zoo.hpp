#pragma once
// The standard workloads as ONNX files made from scratch (no downloads):
// VGG-16 and ResNet-18 for CIFAR-10 (32x32, 10 classes) and ImageNet
// (224x224, 1000 classes). See docs/onnx-support.md for the layer tables.
#include <cstdint>
#include <string>
#include <vector>

#include "pcnn/onnx/model_builder.hpp"

namespace pcnn {

struct ZooEntry {
  std::string name;
  std::string description;
};

const std::vector<ZooEntry>& zoo_models();

// Builds a zoo network; throws pcnn::Error(name, "unknown model ...").
ModelBuilder build_zoo_model(const std::string& name, std::uint64_t seed = 1);

}  // namespace pcnn
