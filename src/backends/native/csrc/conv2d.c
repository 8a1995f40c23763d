/* A stride-1 unpadded convolution: forward (bias and ReLU included) and its input gradient (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

/*
 * out[p, 0..m) += in[p, 0..k) . mat[k, m] for `count` pixels p (in and out rows `in_stride` and
 * `out_stride` floats apart): the inner step of a stride-1 convolution, one filter tap over one row.
 * Four pixels by eight outputs are held in registers (8 accumulators, 2 mat and 4 in vectors).
 */
static inline void gemm_row(const float *in, int in_stride, int count, const float *mat, int k, int m, float *out, int out_stride) {
  int p = 0;
  for (; p + 4 <= count; p += 4) {
    const float *i0 = in + (size_t)p * in_stride, *i1 = i0 + in_stride, *i2 = i1 + in_stride, *i3 = i2 + in_stride;
    float *o0 = out + (size_t)p * out_stride, *o1 = o0 + out_stride, *o2 = o1 + out_stride, *o3 = o2 + out_stride;
    int o = 0;
    for (; o + 8 <= m; o += 8) {
      v128_t a00 = wasm_v128_load(o0 + o), a01 = wasm_v128_load(o0 + o + 4);
      v128_t a10 = wasm_v128_load(o1 + o), a11 = wasm_v128_load(o1 + o + 4);
      v128_t a20 = wasm_v128_load(o2 + o), a21 = wasm_v128_load(o2 + o + 4);
      v128_t a30 = wasm_v128_load(o3 + o), a31 = wasm_v128_load(o3 + o + 4);
      const float *w = mat + o;
      for (int kk = 0; kk < k; kk++, w += m) {
        v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
        v128_t x0 = wasm_v128_load32_splat(i0 + kk), x1 = wasm_v128_load32_splat(i1 + kk);
        v128_t x2 = wasm_v128_load32_splat(i2 + kk), x3 = wasm_v128_load32_splat(i3 + kk);
        a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x0, w0));
        a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x0, w1));
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x1, w0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x1, w1));
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x2, w0));
        a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x2, w1));
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x3, w0));
        a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x3, w1));
      }
      wasm_v128_store(o0 + o, a00), wasm_v128_store(o0 + o + 4, a01);
      wasm_v128_store(o1 + o, a10), wasm_v128_store(o1 + o + 4, a11);
      wasm_v128_store(o2 + o, a20), wasm_v128_store(o2 + o + 4, a21);
      wasm_v128_store(o3 + o, a30), wasm_v128_store(o3 + o + 4, a31);
    }
    for (; o < m; o++) { /* outputs past the last eight */
      float s0 = o0[o], s1 = o1[o], s2 = o2[o], s3 = o3[o];
      for (int kk = 0; kk < k; kk++) {
        float wv = mat[(size_t)kk * m + o];
        s0 += i0[kk] * wv, s1 += i1[kk] * wv, s2 += i2[kk] * wv, s3 += i3[kk] * wv;
      }
      o0[o] = s0, o1[o] = s1, o2[o] = s2, o3[o] = s3;
    }
  }
  for (; p < count; p++) { /* pixels past the last four */
    const float *i0 = in + (size_t)p * in_stride;
    float *o0 = out + (size_t)p * out_stride;
    int o = 0;
    for (; o + 4 <= m; o += 4) {
      v128_t a = wasm_v128_load(o0 + o);
      for (int kk = 0; kk < k; kk++) a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load32_splat(i0 + kk), wasm_v128_load(mat + (size_t)kk * m + o)));
      wasm_v128_store(o0 + o, a);
    }
    for (; o < m; o++) {
      float s = o0[o];
      for (int kk = 0; kk < k; kk++) s += i0[kk] * mat[(size_t)kk * m + o];
      o0[o] = s;
    }
  }
}

/*
 * One output row of a one-channel convolution (the first layer, on the images), bias and ReLU included: each
 * pixel's outputs are summed over its kh*kw taps in registers, eight at a time, in one pass over the row
 * (gemm_row would pass over it once a tap, for one product each time).
 */
static inline void conv_row_c1(const float *x, int wd, const float *w, const float *bias, float *row, int ow, int co, int kh, int kw, int relu) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int j = 0; j < ow; j++) {
    float *out = row + (size_t)j * co;
    int o = 0;
    for (; o + 8 <= co; o += 8) {
      v128_t s0 = bias ? wasm_v128_load(bias + o) : zero, s1 = bias ? wasm_v128_load(bias + o + 4) : zero;
      const float *tap = w + o;
      for (int a = 0; a < kh; a++) {
        const float *in = x + (size_t)a * wd + j;
        for (int b = 0; b < kw; b++, tap += co) {
          v128_t xv = wasm_v128_load32_splat(in + b);
          s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(xv, wasm_v128_load(tap)));
          s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(xv, wasm_v128_load(tap + 4)));
        }
      }
      if (relu) s0 = relu4(s0), s1 = relu4(s1);
      wasm_v128_store(out + o, s0);
      wasm_v128_store(out + o + 4, s1);
    }
    for (; o < co; o++) {
      float s = bias ? bias[o] : 0.0f;
      for (int a = 0; a < kh; a++)
        for (int b = 0; b < kw; b++) s += x[(size_t)a * wd + j + b] * w[((size_t)a * kw + b) * co + o];
      out[o] = relu && s < 0.0f ? 0.0f : s;
    }
  }
}

/*
 * A stride-1 unpadded NHWC convolution of images n0..n1-1: y[n, i, j] = bias + sum over taps (a, b) of
 * x[n, i + a, j + b] . w[a, b] (w [kh, kw, ci, co]; bias [co] or 0), then max(0, .) when relu is set,
 * a row at a time while it is in cache.
 */
EXPORT(conv2d_forward)
void conv2d_forward(const float *x, const float *w, const float *bias, float *y, int n0, int n1, int h, int wd, int ci, int co, int kh, int kw, int relu) {
  const int oh = h - kh + 1, ow = wd - kw + 1;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int n = n0; n < n1; n++) {
    for (int i = 0; i < oh; i++) {
      float *row = y + ((size_t)n * oh + i) * ow * co;
      if (ci == 1) {
        conv_row_c1(x + ((size_t)n * h + i) * wd, wd, w, bias, row, ow, co, kh, kw, relu);
        continue;
      }
      const size_t size = (size_t)ow * co;
      if (bias) {
        for (int j = 0; j < ow; j++)
          for (int o = 0; o < co; o++) row[(size_t)j * co + o] = bias[o];
      } else {
        zero_floats(row, (int)size);
      }
      for (int a = 0; a < kh; a++)
        for (int b = 0; b < kw; b++)
          gemm_row(x + (((size_t)n * h + i + a) * wd + b) * ci, ci, ow, w + ((size_t)a * kw + b) * ci * co, ci, co, row, co);
      if (relu) {
        size_t k = 0;
        for (; k + 4 <= size; k += 4) wasm_v128_store(row + k, wasm_f32x4_max(wasm_v128_load(row + k), zero));
        for (; k < size; k++) row[k] = row[k] > 0.0f ? row[k] : 0.0f;
      }
    }
  }
}

/*
 * The input gradient of that convolution for images n0..n1-1: dx[n, i, j] = sum over taps (a, b) with
 * 0 <= i - a < oh of dy[n, i - a, j - b] . wt[a, b] (wt [kh, kw, co, ci]: the filter with its channel
 * axes swapped, by the caller), j - b running over dy's row.
 */
EXPORT(conv2d_input_grad)
void conv2d_input_grad(const float *dy, const float *wt, float *dx, int n0, int n1, int h, int wd, int ci, int co, int kh, int kw) {
  const int oh = h - kh + 1, ow = wd - kw + 1;
  for (int n = n0; n < n1; n++) {
    for (int i = 0; i < h; i++) {
      float *row = dx + ((size_t)n * h + i) * wd * ci;
      zero_floats(row, wd * ci);
      for (int a = 0; a < kh; a++) {
        const int yi = i - a;
        if (yi < 0 || yi >= oh) continue;
        for (int b = 0; b < kw; b++)
          gemm_row(dy + ((size_t)n * oh + yi) * ow * co, co, ow, wt + ((size_t)a * kw + b) * co * ci, co, ci, row + (size_t)b * ci, ci);
      }
    }
  }
}
