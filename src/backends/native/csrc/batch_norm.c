/* BatchNormalization in training: per-channel sums, and the affine passes forward and back (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

/*
 * Per-channel sums of d = x - shift and of d^2 over x [npix, c], into totals [sum d (c), sum d^2 (c)]
 * (float64). The caller shifts by each channel's first value (the shifted-data algorithm: the variance
 * E[d^2] - E[d]^2 then does not cancel when the mean is large against the spread) and divides.
 * Pixels are split between threads, each with its own totals. scratch: 2c floats.
 */
EXPORT(channel_sums)
void channel_sums(const float *x, int npix, int c, const float *shift, float *scratch, double *totals) {
  float *part = scratch;
  zero_doubles(totals, 2 * c);
  for (int p0 = 0; p0 < npix; p0 += CHUNK) {
    int p1 = p0 + CHUNK < npix ? p0 + CHUNK : npix;
    zero_floats(part, 2 * c);
    for (int p = p0; p < p1; p++) {
      const float *row = x + (size_t)p * c;
      int k = 0;
      for (; k + 4 <= c; k += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + k), wasm_v128_load(shift + k));
        wasm_v128_store(part + k, wasm_f32x4_add(wasm_v128_load(part + k), d));
        wasm_v128_store(part + c + k, wasm_f32x4_add(wasm_v128_load(part + c + k), wasm_f32x4_mul(d, d)));
      }
      for (; k < c; k++) {
        float d = row[k] - shift[k];
        part[k] += d;
        part[c + k] += d * d;
      }
    }
    for (int k = 0; k < 2 * c; k++) totals[k] += part[k];
  }
}

/*
 * Per-channel sums of dy and of dy * (x - centre), over [npix, c], into totals (float64): what a
 * BatchNormalization gradient needs (the offset's and, divided by sigma, the scale's gradients).
 * With a mask (a ReLU's output after the layer, else NULL), dy counts only where the mask is positive: the
 * gradient through that ReLU. Pixels are split between threads, each with its own totals. scratch: 2c floats.
 */
EXPORT(channel_grad_sums)
void channel_grad_sums(const float *dy, const float *x, int npix, int c, const float *centre, float *scratch, double *totals, const float *mask) {
  float *part = scratch;
  zero_doubles(totals, 2 * c);
  for (int p0 = 0; p0 < npix; p0 += CHUNK) {
    int p1 = p0 + CHUNK < npix ? p0 + CHUNK : npix;
    zero_floats(part, 2 * c);
    for (int p = p0; p < p1; p++) {
      const float *g = dy + (size_t)p * c;
      const float *row = x + (size_t)p * c;
      const float *y = mask ? mask + (size_t)p * c : NULL;
      int k = 0;
      for (; k + 4 <= c; k += 4) {
        v128_t gv = wasm_v128_load(g + k);
        if (y) gv = wasm_v128_and(gv, wasm_f32x4_gt(wasm_v128_load(y + k), wasm_f32x4_splat(0.0f)));
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + k), wasm_v128_load(centre + k));
        wasm_v128_store(part + k, wasm_f32x4_add(wasm_v128_load(part + k), gv));
        wasm_v128_store(part + c + k, wasm_f32x4_add(wasm_v128_load(part + c + k), wasm_f32x4_mul(gv, d)));
      }
      for (; k < c; k++) {
        float gk = y && !(y[k] > 0.0f) ? 0.0f : g[k];
        part[k] += gk;
        part[c + k] += gk * (row[k] - centre[k]);
      }
    }
    for (int k = 0; k < 2 * c; k++) totals[k] += part[k];
  }
}

/*
 * y = (x - centre) * a + b per channel, then max(0, .) when relu is set (a ReLU after the layer); coef:
 * [centre (c), a (c), b (c)]. y may be x. Centring first
 * keeps the result exact to float32 when the mean is large against the spread (x*a + b would cancel).
 */
EXPORT(channel_affine)
void channel_affine(const float *x, float *y, int npix, int c, const float *coef, int relu) {
  const float *m = coef;
  const float *a = coef + c;
  const float *b = coef + 2 * c;
  for (int p = 0; p < npix; p++) {
    const float *in = x + (size_t)p * c;
    float *out = y + (size_t)p * c;
    int k = 0;
    for (; k + 4 <= c; k += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(in + k), wasm_v128_load(m + k));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(a + k)), wasm_v128_load(b + k));
      wasm_v128_store(out + k, relu ? relu4(v) : v);
    }
    for (; k < c; k++) {
      float v = (in[k] - m[k]) * a[k] + b[k];
      out[k] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

/*
 * out = dy * a + (x - centre) * b + d per channel; coef: [centre (c), a (c), b (c), d (c)]. out may be dy or x.
 * With a mask (as channel_grad_sums), dy is taken as 0 where the mask is not positive.
 */
EXPORT(channel_affine2)
void channel_affine2(const float *dy, const float *x, float *out, int npix, int c, const float *coef, const float *mask) {
  const float *m = coef;
  const float *a = coef + c;
  const float *b = coef + 2 * c;
  const float *d = coef + 3 * c;
  for (int p = 0; p < npix; p++) {
    const float *g = dy + (size_t)p * c;
    const float *in = x + (size_t)p * c;
    float *o = out + (size_t)p * c;
    const float *y = mask ? mask + (size_t)p * c : NULL;
    int k = 0;
    for (; k + 4 <= c; k += 4) {
      v128_t centred = wasm_f32x4_sub(wasm_v128_load(in + k), wasm_v128_load(m + k));
      v128_t gv = wasm_v128_load(g + k);
      if (y) gv = wasm_v128_and(gv, wasm_f32x4_gt(wasm_v128_load(y + k), wasm_f32x4_splat(0.0f)));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(gv, wasm_v128_load(a + k)),
                                wasm_f32x4_add(wasm_f32x4_mul(centred, wasm_v128_load(b + k)), wasm_v128_load(d + k)));
      wasm_v128_store(o + k, v);
    }
    for (; k < c; k++) o[k] = (y && !(y[k] > 0.0f) ? 0.0f : g[k]) * a[k] + (in[k] - m[k]) * b[k] + d[k];
  }
}
