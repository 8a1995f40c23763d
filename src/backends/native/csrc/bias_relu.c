/* A convolution's bias and ReLU in training, the ReLU alone, and their gradients (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

/* y = x + bias per channel over [npix, c], then max(0, .) when relu is set: a convolution's bias and ReLU in training. y may be x. */
EXPORT(channel_bias)
void channel_bias(const float *x, float *y, int npix, int c, const float *bias, int relu) {
  for (int p = 0; p < npix; p++) {
    const float *in = x + (size_t)p * c;
    float *out = y + (size_t)p * c;
    int k = 0;
    for (; k + 4 <= c; k += 4) {
      v128_t v = wasm_f32x4_add(wasm_v128_load(in + k), wasm_v128_load(bias + k));
      wasm_v128_store(out + k, relu ? relu4(v) : v);
    }
    for (; k < c; k++) {
      float v = in[k] + bias[k];
      out[k] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

/* y = max(0, x), NaN kept (as tfjs: x < 0 ? 0 : x). y may be x. */
EXPORT(relu)
void relu(const float *x, float *y, int count) {
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(y + i, relu4(wasm_v128_load(x + i)));
  for (; i < count; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

/* The ReLU gradient in one pass: out = x > 0 ? dy : 0 (tfjs: dy * step(x), two passes). out may be dy. */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int count) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(out + i, wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(wasm_v128_load(x + i), zero)));
  for (; i < count; i++) out[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/*
 * The ReLU gradient of a channels-last [npix, c] tensor and its per-channel sums in one pass (a fused
 * convolution's bias gradient): out = y > 0 ? dy : 0 (y: the ReLU's output, positive exactly where its input
 * is), totals [c] (float64) = sum of out over the pixels. Pixels are split between threads, each with its own
 * totals. scratch: c floats.
 */
EXPORT(relu_grad_sums)
void relu_grad_sums(const float *dy, const float *y, float *out, int npix, int c, float *scratch, double *totals) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  zero_doubles(totals, c);
  for (int p0 = 0; p0 < npix; p0 += CHUNK) {
    int p1 = p0 + CHUNK < npix ? p0 + CHUNK : npix;
    zero_floats(scratch, c);
    for (int p = p0; p < p1; p++) {
      const float *g = dy + (size_t)p * c, *v = y + (size_t)p * c;
      float *o = out + (size_t)p * c;
      int k = 0;
      for (; k + 4 <= c; k += 4) {
        v128_t masked = wasm_v128_and(wasm_v128_load(g + k), wasm_f32x4_gt(wasm_v128_load(v + k), zero));
        wasm_v128_store(o + k, masked);
        wasm_v128_store(scratch + k, wasm_f32x4_add(wasm_v128_load(scratch + k), masked));
      }
      for (; k < c; k++) {
        float masked = v[k] > 0.0f ? g[k] : 0.0f;
        o[k] = masked;
        scratch[k] += masked;
      }
    }
    for (int k = 0; k < c; k++) totals[k] += scratch[k];
  }
}
