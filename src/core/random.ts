/**
 * Seeded randomness for the whole app: the data side splits with it and the trainer shuffles with it
 * (same seed, same numbers, on every machine and browser, which Math.random cannot promise).
 */

/** Small, fast seeded PRNG (Mulberry32). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle driven by `rng` (arrays and typed arrays); returns the same array. */
export function shuffleInPlace<A extends { length: number; [index: number]: unknown }>(array: A, rng: () => number): A {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const swap = array[i];
    array[i] = array[j];
    array[j] = swap;
  }
  return array;
}

/** 0, 1, …, n-1 as an Int32Array (the order of a split before shuffling). */
export function range(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
