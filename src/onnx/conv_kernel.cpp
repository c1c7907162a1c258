#include "src/onnx/conv_kernel.hpp"

#include <algorithm>
#include <cstring>

namespace pcnn::onnx_detail {
namespace {

// The right-hand matrix is packed as panels of kPanel columns: panel p holds
// B[k][p*kPanel + j] at [p][k][j], so the micro-kernel reads it contiguously.
constexpr int kPanel = 16;
constexpr int kRows = 4;

// acc[r][j] = sum_k A[r][k] * panel[k][j] for kRows rows of A; adds into C.
// Compiled for AVX2+FMA and for the baseline ISA; the loader picks at run time.
__attribute__((target_clones("arch=x86-64-v3", "default")))
void micro_kernel(int rows, int cols, int K, const float* A, int lda, const float* panel, float* C,
                  int ldc) {
  float acc[kRows][kPanel] = {};
  const float* a0 = A;
  const float* a1 = A + (rows > 1 ? lda : 0);
  const float* a2 = A + (rows > 2 ? 2 * lda : 0);
  const float* a3 = A + (rows > 3 ? 3 * lda : 0);
  for (int k = 0; k < K; ++k) {
    const float* b = panel + static_cast<std::size_t>(k) * kPanel;
    const float w0 = a0[k], w1 = a1[k], w2 = a2[k], w3 = a3[k];
    for (int j = 0; j < kPanel; ++j) {
      acc[0][j] += w0 * b[j];
      acc[1][j] += w1 * b[j];
      acc[2][j] += w2 * b[j];
      acc[3][j] += w3 * b[j];
    }
  }
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) C[static_cast<std::size_t>(r) * ldc + j] += acc[r][j];
}

// C[M][N] += A[M][K] * packed(B), B given as panels.
void gemm_packed(int M, int N, int K, const float* A, const float* panels, float* C) {
  const int num_panels = (N + kPanel - 1) / kPanel;
  // Panels per block: keep the block of B within about 256 KiB of cache.
  const int block = std::max(1, static_cast<int>((256 * 1024) / (sizeof(float) * kPanel * std::max(K, 1))));
  for (int p0 = 0; p0 < num_panels; p0 += block) {
    const int p1 = std::min(num_panels, p0 + block);
    for (int m = 0; m < M; m += kRows) {
      const int rows = std::min(kRows, M - m);
      for (int p = p0; p < p1; ++p) {
        const int cols = std::min(kPanel, N - p * kPanel);
        micro_kernel(rows, cols, K, A + static_cast<std::size_t>(m) * K, K,
                     panels + static_cast<std::size_t>(p) * K * kPanel,
                     C + static_cast<std::size_t>(m) * N + p * kPanel, N);
      }
    }
  }
}

// Packs the im2col matrix of one group (rows: c, ky, kx; columns: oy, ox)
// straight into panels.
void im2col_panels(const ConvGeometry& g, const float* in, int c0, std::vector<float>& panels) {
  const int oh = g.out_h(), ow = g.out_w();
  const int N = oh * ow;
  const int cg = g.in_channels_per_group();
  const int K = cg * g.kernel_h * g.kernel_w;
  const int num_panels = (N + kPanel - 1) / kPanel;
  panels.assign(static_cast<std::size_t>(num_panels) * K * kPanel, 0.0f);
  for (int c = 0; c < cg; ++c) {
    const float* plane = in + static_cast<std::size_t>(c0 + c) * g.in_h * g.in_w;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
      for (int kx = 0; kx < g.kernel_w; ++kx) {
        const int k = (c * g.kernel_h + ky) * g.kernel_w + kx;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          if (iy < 0 || iy >= g.in_h) continue;  // stays zero
          const float* row = plane + static_cast<std::size_t>(iy) * g.in_w;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            if (ix < 0 || ix >= g.in_w) continue;
            const int n = oy * ow + ox;
            panels[(static_cast<std::size_t>(n / kPanel) * K + k) * kPanel + n % kPanel] = row[ix];
          }
        }
      }
    }
  }
}

void pack_rows(int K, int N, const float* B, std::vector<float>& panels) {
  const int num_panels = (N + kPanel - 1) / kPanel;
  panels.assign(static_cast<std::size_t>(num_panels) * K * kPanel, 0.0f);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n)
      panels[(static_cast<std::size_t>(n / kPanel) * K + k) * kPanel + n % kPanel] =
          B[static_cast<std::size_t>(k) * N + n];
}

}  // namespace

void gemm_accumulate(int M, int N, int K, const float* A, const float* B, float* C) {
  std::vector<float> panels;
  pack_rows(K, N, B, panels);
  gemm_packed(M, N, K, A, panels.data(), C);
}

void conv2d(const ConvGeometry& g, const float* in, const float* weights, const float* bias,
            float* out) {
  const int N = g.out_h() * g.out_w();
  const int mg = g.out_channels / g.group;
  const int cg = g.in_channels_per_group();
  const int K = cg * g.kernel_h * g.kernel_w;
  for (int m = 0; m < g.out_channels; ++m)
    std::fill(out + static_cast<std::size_t>(m) * N, out + static_cast<std::size_t>(m + 1) * N,
              bias ? bias[m] : 0.0f);
  std::vector<float> panels;
  for (int grp = 0; grp < g.group; ++grp) {
    im2col_panels(g, in, grp * cg, panels);
    gemm_packed(mg, N, K, weights + static_cast<std::size_t>(grp) * mg * K, panels.data(),
                out + static_cast<std::size_t>(grp) * mg * N);
  }
}

}  // namespace pcnn::onnx_detail
