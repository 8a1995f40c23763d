/**
 * An out-of-distribution detector read from a file or from storage, checked before it is used: stranger's input,
 * held to caps on features, classes and the size of its numbers.
 */
import type { OodDetector, OodLayerStatistics, OodPooling } from '../core/types';
import { UserError } from '../core/userError';

/** Caps on a detector read from a file: features a layer, classes, and how large a number may be. */
export const MAX_FEATURES = 4096;
export const MAX_CLASSES = 1000;
const MAX_VALUE = 1e30;

/** At most this many layers in a feature ensemble. */
export const MAX_LAYERS = 16;

type Bad = (what: string) => UserError;

/** What a detector read from a file must fit: the model's classes, and its layers' widths. */
export interface ExpectedDetector {
  /** The penultimate detector's width (its feature layer's output). */
  featureSize?: number;
  numClasses?: number;
  /** A layer's width after `pooling` in the model, or null when the model has no such layer to pool that way. */
  layerSize?: (name: string, pooling: OodPooling) => number | null;
}

/**
 * A detector read from a file or from storage (hostile): every field of the right type, finite and within caps,
 * each precision square and symmetric, each mean as long as it, the layers the model's (when `expected` says how
 * wide they are). Throws a UserError naming what is wrong; returns a clean copy.
 */
export function checkOodDetector(value: unknown, expected: ExpectedDetector = {}): OodDetector {
  const bad: Bad = (what: string) =>
    new UserError(`The model's out-of-distribution statistics (outOfDistribution) are damaged: ${what}.`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('not an object');
  const v = value as Record<string, unknown>;
  const common = {
    threshold: finite(v.threshold, 'threshold', bad),
    quantile: finite(v.quantile, 'quantile', bad),
    trainImages: count(v, 'trainImages', bad),
    validationImages: count(v, 'validationImages', bad),
  };
  if (common.threshold < 0) throw bad('threshold is negative');
  if (common.quantile <= 0 || common.quantile >= 1) throw bad('quantile is not between 0 and 1');
  if (v.method === 'mahalanobis-feature-ensemble') {
    if (!Array.isArray(v.layers) || v.layers.length < 1 || v.layers.length > MAX_LAYERS)
      throw bad(`layers is not a list of 1 to ${MAX_LAYERS} layers`);
    const layers = v.layers.map((raw: unknown, i): OodLayerStatistics => {
      const where = (what: string) => bad(`layer ${i + 1}: ${what}`);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw where('not an object');
      const layer = raw as Record<string, unknown>;
      const featureLayer = layerName(layer.featureLayer, where);
      if (layer.pooling !== 'spatial-mean' && layer.pooling !== 'none' && layer.pooling !== 'detail-octaves')
        throw where('pooling is not known');
      const pooling: OodPooling = layer.pooling;
      const gaussians = checkGaussians(layer, where, expected.numClasses);
      const width = expected.layerSize?.(featureLayer, pooling);
      if (width === null) throw where(`the model has no layer ${featureLayer} to read features from`);
      if (width !== undefined && width !== gaussians.precision.length)
        throw where(`they are for ${gaussians.precision.length} features but layer ${featureLayer} gives ${width}`);
      const scale = finite(layer.scale, 'scale', where);
      if (!(scale > 0)) throw where('scale is not positive');
      return { featureLayer, pooling, ...gaussians, scale };
    });
    if (new Set(layers.map((l) => l.featureLayer)).size !== layers.length) throw bad('a layer is named twice');
    return { method: 'mahalanobis-feature-ensemble', layers, ...common };
  }
  if (v.method !== 'mahalanobis-tied-covariance')
    throw bad(`unknown method ${JSON.stringify(String(v.method)).slice(0, 60)}`);
  const featureLayer = layerName(v.featureLayer, bad);
  const gaussians = checkGaussians(v, bad, expected.numClasses);
  const p = gaussians.precision.length;
  const width = expected.featureSize ?? expected.layerSize?.(featureLayer, 'none');
  if (width === null) throw bad(`the model has no flat layer ${featureLayer} to read features from`);
  if (width !== undefined && p !== width) {
    throw bad(`they are for ${p} features but layer ${featureLayer} gives ${width}`);
  }
  return {
    method: 'mahalanobis-tied-covariance',
    featureLayer,
    classMeans: gaussians.classMeans,
    precision: gaussians.precision,
    ...common,
    shrinkage: gaussians.shrinkage,
  };
}

function layerName(value: unknown, bad: Bad): string {
  if (typeof value !== 'string' || !/^[\w./-]{1,100}$/.test(value)) throw bad('featureLayer is not a layer name');
  return value;
}

/** One layer's class means, precision and shrinkage, checked. */
function checkGaussians(
  v: Record<string, unknown>,
  bad: Bad,
  numClasses: number | undefined,
): { classMeans: number[][]; precision: number[][]; shrinkage: number } {
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
  if (numClasses !== undefined && classMeans.length > numClasses)
    throw bad(`${classMeans.length} class means for ${numClasses} classes`);
  const shrinkage = finite(v.shrinkage, 'shrinkage', bad);
  if (shrinkage < 0 || shrinkage > 1) throw bad('shrinkage is not between 0 and 1');
  return { classMeans, precision, shrinkage };
}

function count(v: Record<string, unknown>, key: string, bad: Bad): number {
  const c = finite(v[key], key, bad);
  if (!Number.isInteger(c) || c < 0) throw bad(`${key} is not a count`);
  return c;
}

function finite(value: unknown, what: string, bad: Bad): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_VALUE)
    throw bad(`${what} is not a finite number`);
  return value;
}

function matrixOf(value: unknown, what: string, bad: Bad): number[][] {
  if (!Array.isArray(value) || value.length > MAX_FEATURES) throw bad(`${what} is not a list of rows`);
  return value.map((row) => {
    if (!Array.isArray(row) || row.length > MAX_FEATURES) throw bad(`${what} has a row that is not a list of numbers`);
    return row.map((x) => finite(x, `a number of ${what}`, bad));
  });
}
