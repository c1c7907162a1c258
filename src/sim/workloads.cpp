#include "pcnn/sim/workloads.hpp"

namespace pcnn {

std::vector<ConvGeometry> vgg16_cifar_conv_shapes() {
  // (in channels, out channels, spatial size); max-pooling halves the size.
  const int spec[13][3] = {{3, 64, 32},    {64, 64, 32},   {64, 128, 16},  {128, 128, 16},
                           {128, 256, 8},  {256, 256, 8},  {256, 256, 8},  {256, 512, 4},
                           {512, 512, 4},  {512, 512, 4},  {512, 512, 2},  {512, 512, 2},
                           {512, 512, 2}};
  std::vector<ConvGeometry> shapes;
  for (const auto& s : spec) {
    ConvGeometry g;
    g.in_channels = s[0];
    g.out_channels = s[1];
    g.in_h = g.in_w = s[2];
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    shapes.push_back(g);
  }
  return shapes;
}

}  // namespace pcnn
