/* A stride-1 unpadded convolution's filter gradient (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

/*
 * Filter gradient of a stride-1 unpadded convolution, one output row at a time: for each filter tap
 * (a, b), dw[a, b] += x[n, y + a, b + p, :]^T dy[n, y, p, :] over the row's pixels p. Four input
 * channels by eight output channels are held in registers across the row (8 accumulators, 2 dy and
 * 4 x vectors: 14 of the 16 SIMD registers V8 gives wasm on x64); the row of dy stays in L1 across taps.
 */
static inline void filter_grad_row(const float *xr, int ci, const float *g, int co, int ow, float *d) {
  int i = 0;
  for (; i + 4 <= ci; i += 4) {
    float *d0 = d + (size_t)i * co, *d1 = d0 + co, *d2 = d1 + co, *d3 = d2 + co;
    int o = 0;
    for (; o + 8 <= co; o += 8) {
      v128_t a00 = wasm_v128_load(d0 + o), a01 = wasm_v128_load(d0 + o + 4);
      v128_t a10 = wasm_v128_load(d1 + o), a11 = wasm_v128_load(d1 + o + 4);
      v128_t a20 = wasm_v128_load(d2 + o), a21 = wasm_v128_load(d2 + o + 4);
      v128_t a30 = wasm_v128_load(d3 + o), a31 = wasm_v128_load(d3 + o + 4);
      const float *xx = xr + i;
      const float *gg = g + o;
      for (int p = 0; p < ow; p++, xx += ci, gg += co) {
        v128_t g0 = wasm_v128_load(gg), g1 = wasm_v128_load(gg + 4);
        v128_t x0 = wasm_v128_load32_splat(xx), x1 = wasm_v128_load32_splat(xx + 1);
        v128_t x2 = wasm_v128_load32_splat(xx + 2), x3 = wasm_v128_load32_splat(xx + 3);
        a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x0, g0));
        a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x0, g1));
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x1, g0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x1, g1));
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x2, g0));
        a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x2, g1));
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x3, g0));
        a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x3, g1));
      }
      wasm_v128_store(d0 + o, a00), wasm_v128_store(d0 + o + 4, a01);
      wasm_v128_store(d1 + o, a10), wasm_v128_store(d1 + o + 4, a11);
      wasm_v128_store(d2 + o, a20), wasm_v128_store(d2 + o + 4, a21);
      wasm_v128_store(d3 + o, a30), wasm_v128_store(d3 + o + 4, a31);
    }
    for (; o < co; o++) { /* output channels past the last eight */
      float s0 = d0[o], s1 = d1[o], s2 = d2[o], s3 = d3[o];
      const float *xx = xr + i;
      for (int p = 0; p < ow; p++, xx += ci) {
        float gv = g[(size_t)p * co + o];
        s0 += xx[0] * gv, s1 += xx[1] * gv, s2 += xx[2] * gv, s3 += xx[3] * gv;
      }
      d0[o] = s0, d1[o] = s1, d2[o] = s2, d3[o] = s3;
    }
  }
  for (; i < ci; i++) { /* input channels past the last four (the first layer has one) */
    float *di = d + (size_t)i * co;
    int o = 0;
    for (; o + 8 <= co; o += 8) {
      v128_t a0 = wasm_v128_load(di + o), a1 = wasm_v128_load(di + o + 4);
      v128_t b0 = wasm_f32x4_splat(0.0f), b1 = wasm_f32x4_splat(0.0f); /* two chains: shorter dependencies */
      const float *xx = xr + i;
      const float *gg = g + o;
      int p = 0;
      for (; p + 2 <= ow; p += 2, xx += 2 * ci, gg += 2 * co) {
        v128_t x0 = wasm_v128_load32_splat(xx), x1 = wasm_v128_load32_splat(xx + ci);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, wasm_v128_load(gg)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, wasm_v128_load(gg + 4)));
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(x1, wasm_v128_load(gg + co)));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(x1, wasm_v128_load(gg + co + 4)));
      }
      for (; p < ow; p++, xx += ci, gg += co) {
        v128_t x0 = wasm_v128_load32_splat(xx);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, wasm_v128_load(gg)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, wasm_v128_load(gg + 4)));
      }
      wasm_v128_store(di + o, wasm_f32x4_add(a0, b0));
      wasm_v128_store(di + o + 4, wasm_f32x4_add(a1, b1));
    }
    for (; o < co; o++) {
      float s = di[o];
      for (int p = 0; p < ow; p++) s += xr[(size_t)p * ci + i] * g[(size_t)p * co + o];
      di[o] = s;
    }
  }
}

/*
 * dw[kh, kw, ci, co] += sum over images n0..n1-1 of the filter gradient of a stride-1, unpadded NHWC
 * convolution (x [n, h, w, ci], dy [n, h-kh+1, w-kw+1, co]). Each image is summed into `acc` (kh*kw*ci*co
 * floats of scratch) first and then added to dw: sums of a few thousand products, then of a few dozen,
 * round far less than one running sum of a whole batch. Images split between threads by range, each into its own dw.
 */
EXPORT(conv2d_filter_grad)
void conv2d_filter_grad(const float *x, const float *dy, float *dw, float *acc, int n0, int n1, int h, int w, int ci, int co, int kh, int kw) {
  const int oh = h - kh + 1, ow = w - kw + 1;
  const size_t size = (size_t)kh * kw * ci * co;
  for (int n = n0; n < n1; n++) {
    zero_floats(acc, (int)size);
    for (int y = 0; y < oh; y++) {
      const float *g = dy + ((size_t)n * oh + y) * ow * co;
      for (int a = 0; a < kh; a++)
        for (int b = 0; b < kw; b++)
          filter_grad_row(x + (((size_t)n * h + y + a) * w + b) * ci, ci, g, co, ow, acc + ((size_t)a * kw + b) * ci * co);
    }
    size_t k = 0;
    for (; k + 4 <= size; k += 4) wasm_v128_store(dw + k, wasm_f32x4_add(wasm_v128_load(dw + k), wasm_v128_load(acc + k)));
    for (; k < size; k++) dw[k] += acc[k];
  }
}
