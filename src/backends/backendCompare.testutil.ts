/** Helpers of the tests that hold one backend's kernels against another's (usually the cpu backend). */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../core/random';

/** Seeded values in [−1, 1) (mulberry32, so failures can be reproduced), rounded to 1/quantize when given. */
export function values(size: number, seed: number, quantize = 0): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: size }, () => {
    const v = next() * 2 - 1;
    return quantize > 0 ? Math.round(v * quantize) / quantize : v;
  });
}

/** Runs `compute` on a backend and returns its results as plain arrays; no tensor outlives it. */
export async function on(backend: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const tensors = compute();
  try {
    return await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  } finally {
    tf.dispose(tensors);
  }
}
