/**
 * The arithmetic of the Mahalanobis detector (outOfDistribution.ts): per-class means of features with one shared
 * covariance, shrunk by Ledoit-Wolf's rule and inverted through its Cholesky factor, and the squared Mahalanobis
 * distance of a feature row to the nearest class mean. Float64, no tfjs.
 */
import { UserError } from '../core/userError';

/** Added to the covariance's diagonal, relative to its mean variance, so it is invertible even when shrinkage is 0. */
const RIDGE = 1e-6;

/** Per-class means and the precision matrix of the training features. */
export interface ClassGaussians {
  featureSize: number;
  /** One row a class that has images (classes without any are left out: they have no mean). */
  classMeans: Float64Array[];
  /** featureSize x featureSize, row-major. */
  precision: Float64Array;
  shrinkage: number;
}

/**
 * Fits the class means and the shrunk shared covariance of `features` (`labels.length` rows of `featureSize`),
 * and inverts it.
 */
export function fitClassGaussians(
  features: Float32Array,
  labels: ArrayLike<number>,
  featureSize: number,
  numClasses: number,
): ClassGaussians {
  const n = labels.length;
  const p = featureSize;
  if (features.length !== n * p)
    throw new RangeError(`fitClassGaussians: ${features.length} numbers for ${n} images of ${p} features.`);
  if (n < 2) throw new UserError('Judging images unlike the training data needs at least 2 training images.');
  const sums = Array.from({ length: numClasses }, () => new Float64Array(p));
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < p; j++) sums[c][j] += features[i * p + j];
  }
  const means = sums.map((s, c) => s.map((v) => v / Math.max(1, counts[c])));
  // Each image minus its class mean: the within-class scatter is the tied covariance.
  const centred = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) centred[i * p + j] = features[i * p + j] - means[labels[i]][j];
  const { covariance, shrinkage } = ledoitWolf(centred, n, p);
  return {
    featureSize: p,
    classMeans: means.filter((_, c) => counts[c] > 0),
    precision: invertSymmetric(covariance, p),
    shrinkage,
  };
}

/**
 * Ledoit-Wolf shrinkage of the covariance of `x` (n rows of p, already centred), as sklearn's ledoit_wolf with
 * assume_centered: (1 - s) S + s mu I, mu = trace(S) / p; then RIDGE * mu on the diagonal.
 */
export function ledoitWolf(x: Float64Array, n: number, p: number): { covariance: Float64Array; shrinkage: number } {
  const s = new Float64Array(p * p);
  let beta = 0;
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * p, (i + 1) * p);
    let norm2 = 0;
    for (let a = 0; a < p; a++) {
      const va = row[a];
      if (va === 0) continue;
      norm2 += va * va;
      for (let b = a; b < p; b++) s[a * p + b] += va * row[b];
    }
    beta += norm2 * norm2;
  }
  for (let a = 0; a < p; a++) {
    for (let b = a; b < p; b++) {
      s[a * p + b] /= n;
      s[b * p + a] = s[a * p + b];
    }
  }
  let trace = 0;
  for (let a = 0; a < p; a++) trace += s[a * p + a];
  const mu = trace / p;
  let squares = 0;
  for (const v of s) squares += v * v;
  let betaShrink = (beta / n - squares) / (p * n);
  const delta = (squares - 2 * mu * trace + p * mu * mu) / p;
  betaShrink = Math.min(betaShrink, delta);
  const shrinkage = betaShrink <= 0 || delta <= 0 ? 0 : betaShrink / delta;
  const covariance = s.map((v) => (1 - shrinkage) * v);
  const ridge = RIDGE * mu + Number.MIN_VALUE;
  for (let a = 0; a < p; a++) covariance[a * p + a] += shrinkage * mu + ridge;
  return { covariance, shrinkage };
}

/** The inverse of a symmetric positive-definite matrix (p x p, row-major), through its Cholesky factor. */
export function invertSymmetric(matrix: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = matrix[i * p + j];
      for (let k = 0; k < j; k++) sum -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('The feature covariance is not positive definite.');
        l[i * p + i] = Math.sqrt(sum);
      } else {
        l[i * p + j] = sum / l[j * p + j];
      }
    }
  }
  // L^-1, lower triangular, by forward substitution; then A^-1 = L^-T L^-1.
  const li = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    li[j * p + j] = 1 / l[j * p + j];
    for (let i = j + 1; i < p; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * p + k] * li[k * p + j];
      li[i * p + j] = sum / l[i * p + i];
    }
  }
  const inverse = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let sum = 0;
      for (let k = j; k < p; k++) sum += li[k * p + i] * li[k * p + j];
      inverse[i * p + j] = sum;
      inverse[j * p + i] = sum;
    }
  }
  return inverse;
}

/**
 * Squared Mahalanobis distance of each feature row to the nearest class mean; `nearest`, when given, receives that
 * class's index in `classMeans` for each row.
 */
export function mahalanobisDistances(
  features: Float32Array,
  gaussians: Pick<ClassGaussians, 'featureSize' | 'classMeans' | 'precision'>,
  nearest?: Int32Array,
): Float32Array {
  const p = gaussians.featureSize;
  const n = Math.floor(features.length / p);
  const out = new Float32Array(n);
  const d = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let c = 0; c < gaussians.classMeans.length; c++) {
      const mean = gaussians.classMeans[c];
      for (let j = 0; j < p; j++) d[j] = features[i * p + j] - mean[j];
      let total = 0;
      for (let a = 0; a < p; a++) {
        let sum = 0;
        const row = a * p;
        for (let b = 0; b < p; b++) sum += gaussians.precision[row + b] * d[b];
        total += d[a] * sum;
      }
      if (total < best) {
        best = total;
        if (nearest) nearest[i] = c;
      }
    }
    out[i] = best;
  }
  return out;
}
