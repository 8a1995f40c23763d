/*
 * WebAssembly SIMD kernels for training on tfjs' WASM backend, compiled ahead of time
 * (scripts/build-native-kernels.sh, Debian's clang and wasm-ld) into training.wasm and, for the
 * threaded build whose memory is shared, training-shared.wasm.
 *
 * The module imports tfjs-backend-wasm's own memory (env.memory) and works in place on its tensors:
 * every pointer is a byte offset into that heap, handed over by nativeKernels.ts. So it must never
 * write memory it was not given: no static data, no stack (all scratch comes from the caller), no
 * libc. scripts/build-native-kernels.sh checks the output has no data section and imports nothing else.
 *
 * Layout: NHWC tensors seen as [pixels, channels], channels innermost.
 */
#include <stddef.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* Pixels summed in float32 before each flush into float64: short runs keep float32's rounding small. */
#define CHUNK 64

static inline void zero_floats(float *p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0f;
}

static inline void zero_doubles(double *p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0;
}

/* max(0, v) lane-wise as tfjs' ReLU, x < 0 ? 0 : x: NaN and -0 pass unchanged (f32x4.max would turn -0 into 0). */
static inline v128_t relu4(v128_t v) {
  return wasm_v128_bitselect(wasm_f32x4_splat(0.0f), v, wasm_f32x4_lt(v, wasm_f32x4_splat(0.0f)));
}

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

/*
 * A 2x2 max pool with stride 2 and no padding, NHWC: y [n, h/2, w/2, c] (rows and columns past the last
 * whole window are left out). As tfjs' cpu kernel: from -inf, a value replaces the maximum only when it is
 * greater (pmax), so a NaN is never the maximum, which is what max_pool_2x2_grad assumes.
 */
EXPORT(max_pool_2x2)
void max_pool_2x2(const float *x, float *y, int n, int h, int w, int c) {
  const int oh = h / 2, ow = w / 2;
  const size_t row = (size_t)w * c;
  const v128_t minus_inf = wasm_f32x4_splat(-__builtin_inff());
  for (int b = 0; b < n; b++) {
    for (int i = 0; i < oh; i++) {
      const float *x0 = x + ((size_t)b * h + 2 * i) * row;
      const float *x1 = x0 + row;
      float *o = y + ((size_t)b * oh + i) * (size_t)ow * c;
      for (int j = 0; j < ow; j++) {
        const size_t l = (size_t)2 * j * c, r = l + c;
        int k = 0;
        for (; k + 4 <= c; k += 4) {
          v128_t m = wasm_f32x4_pmax(minus_inf, wasm_v128_load(x0 + l + k));
          m = wasm_f32x4_pmax(m, wasm_v128_load(x0 + r + k));
          m = wasm_f32x4_pmax(m, wasm_v128_load(x1 + l + k));
          wasm_v128_store(o + k, wasm_f32x4_pmax(m, wasm_v128_load(x1 + r + k)));
        }
        for (; k < c; k++) {
          const float v[4] = {x0[l + k], x0[r + k], x1[l + k], x1[r + k]};
          float m = -__builtin_inff();
          for (int q = 0; q < 4; q++) if (v[q] > m) m = v[q];
          o[k] = m;
        }
        o += c;
      }
    }
  }
}

/*
 * The gradient of a 2x2 max pool with stride 2 and no padding, NHWC: each window's gradient goes to
 * its first maximum in row-major order, as tfjs' kernels choose; a window whose maximum is -inf gets
 * none, and a NaN is never the maximum. Rows and columns no window covers (odd sizes) get zero.
 */
EXPORT(max_pool_2x2_grad)
void max_pool_2x2_grad(const float *x, const float *dy, float *dx, int n, int h, int w, int c) {
  const int oh = h / 2, ow = w / 2;
  const size_t row = (size_t)w * c;
  const v128_t minus_inf = wasm_f32x4_splat(-__builtin_inff());
  for (int b = 0; b < n; b++) {
    for (int i = 0; i < oh; i++) {
      const float *x0 = x + ((size_t)b * h + 2 * i) * row;
      const float *x1 = x0 + row;
      float *d0 = dx + ((size_t)b * h + 2 * i) * row;
      float *d1 = d0 + row;
      const float *g = dy + ((size_t)b * oh + i) * (size_t)ow * c;
      for (int j = 0; j < ow; j++) {
        const size_t l = (size_t)2 * j * c, r = l + c;
        int k = 0;
        for (; k + 4 <= c; k += 4) {
          v128_t a = wasm_v128_load(x0 + l + k), bb = wasm_v128_load(x0 + r + k);
          v128_t cc = wasm_v128_load(x1 + l + k), dd = wasm_v128_load(x1 + r + k);
          v128_t m = wasm_f32x4_max(wasm_f32x4_max(a, bb), wasm_f32x4_max(cc, dd));
          /* A NaN makes the maximum NaN: those four channels take the scalar path below. */
          if (wasm_v128_any_true(wasm_f32x4_ne(m, m))) break;
          v128_t open = wasm_f32x4_gt(m, minus_inf); /* false for -inf and NaN */
          v128_t ea = wasm_v128_and(wasm_f32x4_eq(a, m), open);
          open = wasm_v128_andnot(open, ea);
          v128_t eb = wasm_v128_and(wasm_f32x4_eq(bb, m), open);
          open = wasm_v128_andnot(open, eb);
          v128_t ec = wasm_v128_and(wasm_f32x4_eq(cc, m), open);
          open = wasm_v128_andnot(open, ec);
          v128_t ed = wasm_v128_and(wasm_f32x4_eq(dd, m), open);
          v128_t gv = wasm_v128_load(g + k);
          wasm_v128_store(d0 + l + k, wasm_v128_and(gv, ea));
          wasm_v128_store(d0 + r + k, wasm_v128_and(gv, eb));
          wasm_v128_store(d1 + l + k, wasm_v128_and(gv, ec));
          wasm_v128_store(d1 + r + k, wasm_v128_and(gv, ed));
        }
        for (; k < c; k++) { /* channels past the last four, or from a vector holding a NaN on */
          float a = x0[l + k], bb = x0[r + k], cc = x1[l + k], dd = x1[r + k];
          float best = -__builtin_inff();
          int at = -1;
          if (a > best) { best = a; at = 0; }
          if (bb > best) { best = bb; at = 1; }
          if (cc > best) { best = cc; at = 2; }
          if (dd > best) { best = dd; at = 3; }
          d0[l + k] = at == 0 ? g[k] : 0.0f;
          d0[r + k] = at == 1 ? g[k] : 0.0f;
          d1[l + k] = at == 2 ? g[k] : 0.0f;
          d1[r + k] = at == 3 ? g[k] : 0.0f;
        }
        g += c;
      }
      /* An odd width leaves the last column out of every window. */
      for (size_t k = (size_t)2 * ow * c; k < row; k++) d0[k] = d1[k] = 0.0f;
    }
    /* An odd height leaves the last row out of every window. */
    for (int i = 2 * oh; i < h; i++) {
      float *d = dx + ((size_t)b * h + i) * row;
      for (size_t k = 0; k < row; k++) d[k] = 0.0f;
    }
  }
}

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

/* The ReLU gradient in one pass: out = x > 0 ? dy : 0 (tfjs: dy * step(x), two passes). out may be dy. */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int count) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(out + i, wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(wasm_v128_load(x + i), zero)));
  for (; i < count; i++) out[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/*
 * One RMSprop step (not centred) for n numbers, in tfjs' order of float32 operations, so the results are
 * tfjs' to the bit: ms' = ms*decay + g*g*rest (rest = 1 - decay); mom' = mom*momentum + g*lr / sqrt(ms' + eps);
 * value' = value - mom'. Writes new buffers (the engine then assigns them to the variables).
 */
EXPORT(rmsprop_update)
void rmsprop_update(const float *value, const float *ms, const float *mom, const float *g, float *value2, float *ms2, float *mom2, int n,
                    float decay, float rest, float momentum, float lr, float eps) {
  const v128_t vdecay = wasm_f32x4_splat(decay), vrest = wasm_f32x4_splat(rest), vmomentum = wasm_f32x4_splat(momentum);
  const v128_t vlr = wasm_f32x4_splat(lr), veps = wasm_f32x4_splat(eps);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gv = wasm_v128_load(g + i);
    v128_t s = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(ms + i), vdecay), wasm_f32x4_mul(wasm_f32x4_mul(gv, gv), vrest));
    v128_t step = wasm_f32x4_div(wasm_f32x4_mul(gv, vlr), wasm_f32x4_sqrt(wasm_f32x4_add(s, veps)));
    v128_t m = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(mom + i), vmomentum), step);
    wasm_v128_store(ms2 + i, s);
    wasm_v128_store(mom2 + i, m);
    wasm_v128_store(value2 + i, wasm_f32x4_sub(wasm_v128_load(value + i), m));
  }
  for (; i < n; i++) {
    float s = ms[i] * decay + g[i] * g[i] * rest;
    float m = mom[i] * momentum + g[i] * lr / __builtin_sqrtf(s + eps);
    ms2[i] = s;
    mom2[i] = m;
    value2[i] = value[i] - m;
  }
}

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
