/**
 * Small pieces both out-of-distribution detectors (outOfDistribution.ts, featureEnsemble.ts) share: the cut's
 * quantile, numpy's quantile, and a stored layer's Gaussians as the arrays classGaussians.ts works on.
 */
import type { ClassGaussians } from './classGaussians';

/** Validation's quantile the cut is: about 5% of validation images are flagged. */
export const OOD_QUANTILE = 0.95;

/** The q-quantile of `values`, interpolating linearly between order statistics (numpy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/** The largest value, 0 when there is none. */
export function maxOf(values: Float32Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** Stored class means and precision (rows of numbers) as the arrays `mahalanobisDistances` takes. */
export function gaussiansOfMatrices(stored: {
  classMeans: number[][];
  precision: number[][];
  shrinkage: number;
}): ClassGaussians {
  return {
    featureSize: stored.precision.length,
    classMeans: stored.classMeans.map((m) => Float64Array.from(m)),
    precision: Float64Array.from(stored.precision.flat()),
    shrinkage: stored.shrinkage,
  };
}
