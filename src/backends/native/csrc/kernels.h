/*
 * Shared by the kernel files of this folder, compiled together ahead of time
 * (scripts/build-native-kernels.sh, Debian's clang and wasm-ld) into ../training.wasm and, for the
 * threaded build whose memory is shared, ../training-shared.wasm.
 *
 * The module imports tfjs-backend-wasm's own memory (env.memory) and works in place on its tensors:
 * every pointer is a byte offset into that heap, handed over by nativeKernels.ts. So it must never
 * write memory it was not given: no static data, no stack (all scratch comes from the caller), no
 * libc. scripts/build-native-kernels.sh checks the output has no data section and imports nothing else.
 *
 * Layout: NHWC tensors seen as [pixels, channels], channels innermost.
 */
#ifndef XRAY_KERNELS_H
#define XRAY_KERNELS_H

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

#endif
