// A one-layer image set for the command-line tests: a pattern-pruned 3x3
// layer (n = 4 from 8 patterns, ReLU, padding 1) of the given channels and
// square input size, written to a folder the way pcnn-prune writes one.
#pragma once

#include <random>
#include <string>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/model_images.hpp"

namespace pcnn_test {

inline std::string write_one_layer_images(const std::string& dir, int in_channels,
                                          int out_channels, int size, unsigned seed,
                                          const std::string& model_name = "tiny") {
  std::mt19937_64 rng(seed);
  pcnn::ModelImages images;
  images.model_name = model_name;
  images.source_file = "tiny.onnx";
  pcnn::ConvGeometry g;
  g.in_channels = in_channels;
  g.out_channels = out_channels;
  g.in_h = g.in_w = size;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  images.layers.push_back(pcnn::make_layer_with_geometry(g, 4, 8, true, rng, "convA"));
  pcnn::write_model_images(images, dir);
  return dir;
}

}  // namespace pcnn_test
