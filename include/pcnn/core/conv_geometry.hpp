#pragma once
// Shape of one convolution layer, shared by the pruner, the image format, the
// golden reference and the accelerator model. Tensors are NCHW (batch 1);
// weights are [M][C/group][kernel_h][kernel_w].
#include <cstdint>

namespace pcnn {

struct ConvGeometry {
  int in_channels = 0;   // C
  int out_channels = 0;  // M
  int in_h = 0, in_w = 0;
  int kernel_h = 3, kernel_w = 3;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
  int group = 1;

  int kernel_size() const { return kernel_h * kernel_w; }  // K
  int out_h() const {
    return (in_h + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1;
  }
  int out_w() const {
    return (in_w + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) / stride_w + 1;
  }
  int in_channels_per_group() const { return in_channels / group; }
  // Number of kernels (one per output channel and input channel of its group).
  std::int64_t kernel_count() const {
    return static_cast<std::int64_t>(out_channels) * in_channels_per_group();
  }
  std::int64_t weight_count() const { return kernel_count() * kernel_size(); }
  std::int64_t dense_macs() const {
    return weight_count() * static_cast<std::int64_t>(out_h()) * out_w();
  }
  std::int64_t input_elements() const {
    return static_cast<std::int64_t>(in_channels) * in_h * in_w;
  }
  std::int64_t output_elements() const {
    return static_cast<std::int64_t>(out_channels) * out_h() * out_w();
  }
  // The accelerator's pattern datapath handles 3x3 (or smaller) kernels, group 1.
  bool pattern_prunable() const { return kernel_h == 3 && kernel_w == 3 && group == 1; }
};

}  // namespace pcnn
