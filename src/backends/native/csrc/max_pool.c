/* The 2x2 max pool with stride 2 and its gradient (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

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
