/* One RMSprop step, to the bit as tfjs computes it (kernels.h says what every kernel here may and may not do). */
#include "kernels.h"

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
