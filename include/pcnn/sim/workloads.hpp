#pragma once
// Conv-layer shapes of standard workloads, for the speedup checks and the
// benchmarks (the layers' weights are random: speedup depends on shapes and n).
#include <vector>

#include "pcnn/core/conv_geometry.hpp"

namespace pcnn {

// The 13 conv layers of VGG-16 for 32x32 CIFAR-10 inputs (3x3, stride 1, pad 1).
std::vector<ConvGeometry> vgg16_cifar_conv_shapes();

}  // namespace pcnn
