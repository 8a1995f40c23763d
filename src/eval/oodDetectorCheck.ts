/**
 * An out-of-distribution detector read from a file or from storage, checked before it is used: stranger's input,
 * held to caps on features, classes and the size of its numbers.
 */
import type { OodDetector } from '../core/types';
import { UserError } from '../core/userError';

/** Caps on a detector read from a file: features a layer, classes, and how large a number may be. */
export const MAX_FEATURES = 4096;
export const MAX_CLASSES = 1000;
const MAX_VALUE = 1e30;

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
