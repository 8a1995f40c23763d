/**
 * Seeded shuffling, so a run with the same seed sees its batches in the same order.
 * No DOM, no tfjs: usable from the worker and from tests.
 */

// One generator for the whole app: the data side splits with it too (same seed, same numbers).
export { mulberry32, shuffleInPlace } from '../data/splits';

/** 0, 1, …, n-1 as an Int32Array (the order of a split before shuffling). */
export function range(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
