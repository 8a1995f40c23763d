/**
 * Is an image unlike the images a model was trained on? The Mahalanobis detector of Lee et al. 2018 ("A Simple
 * Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks"): the training images'
 * features (a layer's output, here the Dense layer before the output) as one Gaussian a class with one shared
 * (tied) covariance; an image's score is its squared Mahalanobis distance to the nearest class mean. The
 * covariance is shrunk towards a scaled identity by Ledoit-Wolf's rule (as sklearn.covariance.ledoit_wolf), so it
 * can be inverted with few images or dead ReLU units. The cut is a quantile of validation's scores.
 * Pure arithmetic in float64 (no tfjs); the PyTorch bundle's train.py computes the same.
 */
import type { OodDetector, OodJudgement } from '../core/types';
import { UserError } from '../core/userError';

/** Validation's quantile the cut is: about 5% of validation images are flagged. */
export const OOD_QUANTILE = 0.95;
/** Added to the covariance's diagonal, relative to its mean variance, so it is invertible even when shrinkage is 0. */
const RIDGE = 1e-6;
/** Caps on a detector read from a file: features a layer, classes, and how large a number may be. */
export const MAX_FEATURES = 4096;
export const MAX_CLASSES = 1000;
const MAX_VALUE = 1e30;

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

/** Squared Mahalanobis distance of each feature row to the nearest class mean. */
export function mahalanobisDistances(
  features: Float32Array,
  gaussians: Pick<ClassGaussians, 'featureSize' | 'classMeans' | 'precision'>,
): Float32Array {
  const p = gaussians.featureSize;
  const n = Math.floor(features.length / p);
  const out = new Float32Array(n);
  const d = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (const mean of gaussians.classMeans) {
      for (let j = 0; j < p; j++) d[j] = features[i * p + j] - mean[j];
      let total = 0;
      for (let a = 0; a < p; a++) {
        let sum = 0;
        const row = a * p;
        for (let b = 0; b < p; b++) sum += gaussians.precision[row + b] * d[b];
        total += d[a] * sum;
      }
      if (total < best) best = total;
    }
    out[i] = best;
  }
  return out;
}

/** The q-quantile of `values`, interpolating linearly between order statistics (numpy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

/**
 * The detector from the training features, its cut set so that about 1 - `q` of the validation images (their
 * features given) are flagged.
 */
export function fitOodDetector(
  train: { features: Float32Array; labels: ArrayLike<number> },
  validationFeatures: Float32Array,
  options: { featureSize: number; numClasses: number; featureLayer: string; q?: number },
): { detector: OodDetector; validation: OodJudgement } {
  const { featureSize, numClasses, featureLayer, q = OOD_QUANTILE } = options;
  const gaussians = fitClassGaussians(train.features, train.labels, featureSize, numClasses);
  const distances = mahalanobisDistances(validationFeatures, gaussians);
  // Without validation images nothing can set the cut: the largest training distance stands in.
  const threshold =
    distances.length > 0 ? quantile(distances, q) : maxOf(mahalanobisDistances(train.features, gaussians));
  const detector: OodDetector = {
    method: 'mahalanobis-tied-covariance',
    featureLayer,
    classMeans: gaussians.classMeans.map((m) => Array.from(m)),
    precision: Array.from({ length: featureSize }, (_, a) =>
      Array.from(gaussians.precision.subarray(a * featureSize, (a + 1) * featureSize)),
    ),
    threshold,
    quantile: q,
    shrinkage: gaussians.shrinkage,
    trainImages: train.labels.length,
    validationImages: distances.length,
  };
  return { detector, validation: { distances, threshold } };
}

function maxOf(values: Float32Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** The detector's Gaussians as arrays for `mahalanobisDistances`. */
export function gaussiansOf(detector: OodDetector): ClassGaussians {
  const p = detector.precision.length;
  return {
    featureSize: p,
    classMeans: detector.classMeans.map((m) => Float64Array.from(m)),
    precision: Float64Array.from(detector.precision.flat()),
    shrinkage: detector.shrinkage,
  };
}

/** The judgement of images whose features are `features` (rows of the detector's feature size). */
export function judge(detector: OodDetector, features: Float32Array): OodJudgement {
  return { distances: mahalanobisDistances(features, gaussiansOf(detector)), threshold: detector.threshold };
}

/** How many of the judged images are unlike the training data. */
export function countUnlike(judgement: OodJudgement): number {
  let flagged = 0;
  for (const d of judgement.distances) if (d > judgement.threshold) flagged++;
  return flagged;
}

/**
 * A detector read from a file or from storage (hostile): every field of the right type, finite and within caps,
 * the precision square and symmetric, each mean as long as it. `featureSize` and `numClasses`, when given, must
 * match. Throws a UserError naming what is wrong; returns a clean copy.
 */
export function checkOodDetector(
  value: unknown,
  expected: { featureSize?: number; numClasses?: number } = {},
): OodDetector {
  const bad = (what: string) =>
    new UserError(`The model's out-of-distribution statistics (outOfDistribution) are damaged: ${what}.`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('not an object');
  const v = value as Record<string, unknown>;
  if (v.method !== 'mahalanobis-tied-covariance')
    throw bad(`unknown method ${JSON.stringify(String(v.method)).slice(0, 60)}`);
  if (typeof v.featureLayer !== 'string' || !/^[\w./-]{1,100}$/.test(v.featureLayer))
    throw bad('featureLayer is not a layer name');
  const precision = matrixOf(v.precision, 'precision', bad);
  const p = precision.length;
  if (p < 1 || p > MAX_FEATURES) throw bad(`precision has ${p} rows (1 to ${MAX_FEATURES})`);
  if (precision.some((row) => row.length !== p)) throw bad('precision is not square');
  for (let a = 0; a < p; a++) {
    if (!(precision[a][a] > 0)) throw bad('precision has a diagonal entry that is not positive');
    for (let b = 0; b < a; b++) {
      if (
        Math.abs(precision[a][b] - precision[b][a]) >
        1e-6 * (Math.abs(precision[a][b]) + Math.abs(precision[b][a])) + 1e-12
      )
        throw bad('precision is not symmetric');
    }
  }
  const classMeans = matrixOf(v.classMeans, 'classMeans', bad);
  if (classMeans.length < 1 || classMeans.length > MAX_CLASSES)
    throw bad(`classMeans has ${classMeans.length} rows (1 to ${MAX_CLASSES})`);
  if (classMeans.some((row) => row.length !== p)) throw bad(`a class mean is not ${p} numbers long, as the precision`);
  if (expected.featureSize !== undefined && p !== expected.featureSize) {
    throw bad(`they are for ${p} features but layer ${v.featureLayer} gives ${expected.featureSize}`);
  }
  if (expected.numClasses !== undefined && classMeans.length > expected.numClasses)
    throw bad(`${classMeans.length} class means for ${expected.numClasses} classes`);
  const threshold = finite(v.threshold, 'threshold', bad);
  if (threshold < 0) throw bad('threshold is negative');
  const q = finite(v.quantile, 'quantile', bad);
  if (q <= 0 || q >= 1) throw bad('quantile is not between 0 and 1');
  const shrinkage = finite(v.shrinkage, 'shrinkage', bad);
  if (shrinkage < 0 || shrinkage > 1) throw bad('shrinkage is not between 0 and 1');
  const count = (key: string) => {
    const c = finite(v[key], key, bad);
    if (!Number.isInteger(c) || c < 0) throw bad(`${key} is not a count`);
    return c;
  };
  return {
    method: 'mahalanobis-tied-covariance',
    featureLayer: v.featureLayer,
    classMeans,
    precision,
    threshold,
    quantile: q,
    shrinkage,
    trainImages: count('trainImages'),
    validationImages: count('validationImages'),
  };
}

function finite(value: unknown, what: string, bad: (what: string) => UserError): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_VALUE)
    throw bad(`${what} is not a finite number`);
  return value;
}

function matrixOf(value: unknown, what: string, bad: (what: string) => UserError): number[][] {
  if (!Array.isArray(value) || value.length > MAX_FEATURES) throw bad(`${what} is not a list of rows`);
  return value.map((row) => {
    if (!Array.isArray(row) || row.length > MAX_FEATURES) throw bad(`${what} has a row that is not a list of numbers`);
    return row.map((x) => finite(x, `a number of ${what}`, bad));
  });
}
