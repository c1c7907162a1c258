#include "src/onnx/conv_kernel.hpp"

#include <algorithm>
#include <cstring>

#include <immintrin.h>

namespace pcnn::onnx_detail {
namespace {

// The right-hand matrix is packed as panels of kPanel columns: panel p holds
// B[k][p*kPanel + j] at [p][k][j], so the micro-kernel reads it contiguously.
constexpr int kPanel = 16;
constexpr int kRows = 6;

// acc[r][j] = sum_k A[r][k] * panel[k][j] for up to kRows rows of A, added into
// C. The 6 x 16 accumulator tile lives in twelve 8-float vector registers.
// Two builds of the same loop: AVX2 with fused multiply-add, picked at run time
// when the CPU has it, and a portable one in GCC vector extensions.
__attribute__((target("avx2,fma"))) void micro_kernel_avx2(int rows, int cols, int K,
                                                           const float* const* a,
                                                           const float* panel, float* C, int ldc) {
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int k = 0; k < K; ++k) {
    const float* b = panel + static_cast<std::size_t>(k) * kPanel;
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 w = _mm256_broadcast_ss(a0 + k);
    c00 = _mm256_fmadd_ps(b0, w, c00);
    c01 = _mm256_fmadd_ps(b1, w, c01);
    w = _mm256_broadcast_ss(a1 + k);
    c10 = _mm256_fmadd_ps(b0, w, c10);
    c11 = _mm256_fmadd_ps(b1, w, c11);
    w = _mm256_broadcast_ss(a2 + k);
    c20 = _mm256_fmadd_ps(b0, w, c20);
    c21 = _mm256_fmadd_ps(b1, w, c21);
    w = _mm256_broadcast_ss(a3 + k);
    c30 = _mm256_fmadd_ps(b0, w, c30);
    c31 = _mm256_fmadd_ps(b1, w, c31);
    w = _mm256_broadcast_ss(a4 + k);
    c40 = _mm256_fmadd_ps(b0, w, c40);
    c41 = _mm256_fmadd_ps(b1, w, c41);
    w = _mm256_broadcast_ss(a5 + k);
    c50 = _mm256_fmadd_ps(b0, w, c50);
    c51 = _mm256_fmadd_ps(b1, w, c51);
  }
  float acc[kRows][kPanel];
  const __m256 tile[kRows][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                 {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < kRows; ++r) {
    _mm256_storeu_ps(acc[r], tile[r][0]);
    _mm256_storeu_ps(acc[r] + 8, tile[r][1]);
  }
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) C[static_cast<std::size_t>(r) * ldc + j] += acc[r][j];
}

void micro_kernel_portable(int rows, int cols, int K, const float* const* a, const float* panel,
                           float* C, int ldc) {
  typedef float Vec4 __attribute__((vector_size(16)));
  Vec4 c[kRows][4] = {};
  for (int k = 0; k < K; ++k) {
    Vec4 b[4];
    std::memcpy(b, panel + static_cast<std::size_t>(k) * kPanel, sizeof b);
    for (int r = 0; r < kRows; ++r) {
      const float w = a[r][k];
      for (int q = 0; q < 4; ++q) c[r][q] += b[q] * w;
    }
  }
  float acc[kRows][kPanel];
  std::memcpy(acc, c, sizeof acc);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) C[static_cast<std::size_t>(r) * ldc + j] += acc[r][j];
}

const bool kHaveAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");

void micro_kernel(int rows, int cols, int K, const float* A, int lda, const float* panel, float* C,
                  int ldc) {
  const float* a[kRows];
  for (int r = 0; r < kRows; ++r) a[r] = A + static_cast<std::size_t>(r < rows ? r : 0) * lda;
  if (kHaveAvx2) {
    micro_kernel_avx2(rows, cols, K, a, panel, C, ldc);
  } else {
    micro_kernel_portable(rows, cols, K, a, panel, C, ldc);
  }
}

// Panels per column block: keeps a block of packed B within about 256 KiB.
int panels_per_block(int K) {
  return std::max(1, static_cast<int>((256 * 1024) / (sizeof(float) * kPanel * std::max(K, 1))));
}

// C[M][cols] += A[M][K] * B for one block of packed columns (C has row stride ldc).
void gemm_block(int M, int cols, int K, const float* A, const float* panels, float* C, int ldc) {
  const int num_panels = (cols + kPanel - 1) / kPanel;
  for (int m = 0; m < M; m += kRows) {
    const int rows = std::min(kRows, M - m);
    for (int p = 0; p < num_panels; ++p)
      micro_kernel(rows, std::min(kPanel, cols - p * kPanel), K,
                   A + static_cast<std::size_t>(m) * K, K,
                   panels + static_cast<std::size_t>(p) * K * kPanel,
                   C + static_cast<std::size_t>(m) * ldc + p * kPanel, ldc);
  }
}

// Packs columns [n0, n1) of the im2col matrix of one group (rows: c, ky, kx;
// columns: oy, ox) into panels, so no full im2col matrix is ever built. Each
// (panel, row) is 16 contiguous floats; when a panel's 16 pixels lie in one
// output row at stride 1 and inside the image, they are one 16-float copy.
void im2col_panels(const ConvGeometry& g, const float* in, int c0, int n0, int n1,
                   std::vector<float>& panels) {
  const int ow = g.out_w();
  const int cg = g.in_channels_per_group();
  const int K = cg * g.kernel_h * g.kernel_w;
  const int cols = n1 - n0;
  const int num_panels = (cols + kPanel - 1) / kPanel;
  panels.resize(static_cast<std::size_t>(num_panels) * K * kPanel);
  const std::size_t plane_size = static_cast<std::size_t>(g.in_h) * g.in_w;
  for (int p = 0; p < num_panels; ++p) {
    // Top-left input position of each lane's window; lanes past n1 read nothing.
    int iy0[kPanel], ix0[kPanel];
    const int lanes = std::min(kPanel, cols - p * kPanel);
    for (int l = 0; l < kPanel; ++l) {
      const int n = n0 + p * kPanel + std::min(l, lanes - 1);
      iy0[l] = (n / ow) * g.stride_h - g.pad_top;
      ix0[l] = (n % ow) * g.stride_w - g.pad_left;
      if (l >= lanes) iy0[l] = -(1 << 29);  // always out of bounds
    }
    const bool one_row = lanes == kPanel && g.stride_w == 1 && iy0[0] == iy0[kPanel - 1];
    float* dst = panels.data() + static_cast<std::size_t>(p) * K * kPanel;
    for (int c = 0; c < cg; ++c) {
      const float* plane = in + static_cast<std::size_t>(c0 + c) * plane_size;
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        for (int kx = 0; kx < g.kernel_w; ++kx) {
          float* d =
              dst + static_cast<std::size_t>((c * g.kernel_h + ky) * g.kernel_w + kx) * kPanel;
          const int dy = ky * g.dilation_h, dx = kx * g.dilation_w;
          if (one_row) {
            const int iy = iy0[0] + dy, ix = ix0[0] + dx;
            if (iy < 0 || iy >= g.in_h) {
              std::fill(d, d + kPanel, 0.0f);
              continue;
            }
            if (ix >= 0 && ix + kPanel <= g.in_w) {
              std::memcpy(d, plane + static_cast<std::size_t>(iy) * g.in_w + ix,
                          kPanel * sizeof(float));
              continue;
            }
          }
          for (int l = 0; l < kPanel; ++l) {
            const int iy = iy0[l] + dy, ix = ix0[l] + dx;
            d[l] = (iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w)
                       ? plane[static_cast<std::size_t>(iy) * g.in_w + ix]
                       : 0.0f;
          }
        }
      }
    }
  }
}

void pack_rows(int K, int n0, int n1, int N, const float* B, std::vector<float>& panels) {
  const int cols = n1 - n0;
  panels.assign(static_cast<std::size_t>((cols + kPanel - 1) / kPanel) * K * kPanel, 0.0f);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < cols; ++j)
      panels[(static_cast<std::size_t>(j / kPanel) * K + k) * kPanel + j % kPanel] =
          B[static_cast<std::size_t>(k) * N + n0 + j];
}

}  // namespace

void gemm_accumulate(int M, int N, int K, const float* A, const float* B, float* C) {
  const int block = panels_per_block(K) * kPanel;
  std::vector<float> panels;
  for (int n0 = 0; n0 < N; n0 += block) {
    const int n1 = std::min(N, n0 + block);
    pack_rows(K, n0, n1, N, B, panels);
    gemm_block(M, n1 - n0, K, A, panels.data(), C + n0, N);
  }
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
  const int block = panels_per_block(K) * kPanel;
  std::vector<float> panels;
  for (int grp = 0; grp < g.group; ++grp) {
    const float* A = weights + static_cast<std::size_t>(grp) * mg * K;
    float* C = out + static_cast<std::size_t>(grp) * mg * N;
    for (int n0 = 0; n0 < N; n0 += block) {
      const int n1 = std::min(N, n0 + block);
      im2col_panels(g, in, grp * cg, n0, n1, panels);
      gemm_block(mg, n1 - n0, K, A, panels.data(), C + n0, N);
    }
  }
}

}  // namespace pcnn::onnx_detail
