#pragma once
// Float convolution for the interpreter: im2col into column panels, then a
// register-blocked GEMM. Batch 1, NCHW, weights [M][C/group][kh][kw].
#include <vector>

#include "pcnn/core/conv_geometry.hpp"

namespace pcnn::onnx_detail {

// out[M][out_h][out_w] = conv(in[C][in_h][in_w], weights) + bias[m].
void conv2d(const ConvGeometry& g, const float* in, const float* weights, const float* bias,
            float* out);

// C[M][N] += A[M][K] * B[K][N] (all row-major); exposed for tests.
void gemm_accumulate(int M, int N, int K, const float* A, const float* B, float* C);

}  // namespace pcnn::onnx_detail
