/**
 * The feature ensemble of Lee et al. 2018 (section 2.2): the tied-covariance Gaussians of outOfDistribution.ts fitted
 * on several layers' features, not only the penultimate one. Early layers see intensity, texture and framing, which
 * the penultimate layer of a two-class model throws away: an adult's film can sit among the pneumonia features while
 * its early maps differ at once. Without outside images to learn the layers' weights from (Lee et al. fit them on
 * known outliers), each layer's squared distance is divided by its median over validation, so every layer counts in
 * the same unit, and the scaled distances are summed. Pure arithmetic in float64 (no tfjs); train.py does the same.
 */
import type { FeatureEnsembleOodDetector, OodFeatureLayer, OodJudgement, OodPooling } from '../core/types';
import { fitClassGaussians, mahalanobisDistances, type ClassGaussians } from './classGaussians';
import { gaussiansOfMatrices, maxOf, OOD_QUANTILE, quantile } from './oodArithmetic';

/** Columns [start, start + size) of `features` (rows of `width`): one layer's block of the concatenated rows. */
export function columnsOf(features: Float32Array, width: number, start: number, size: number): Float32Array {
  const n = Math.floor(features.length / width);
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) out.set(features.subarray(i * width + start, i * width + start + size), i * size);
  return out;
}

/** The width of a concatenated feature row: the layers' sizes summed. */
export function rowWidth(layers: readonly { size: number }[]): number {
  return layers.reduce((sum, l) => sum + l.size, 0);
}

/** A feature ensemble's layer as the scoring needs it: its size, Gaussians and pooling. */
interface ScoredLayer {
  size: number;
  pooling?: OodPooling;
  gaussians: Pick<ClassGaussians, 'featureSize' | 'classMeans' | 'precision'>;
}

/**
 * Each row's score (the sum over layers of its squared distance divided by that layer's scale) and its parts (the
 * scaled distances, `layers.length` a row); with the image's detail among the layers, its ratio to the nearest
 * training class's: exp of the mean over the octaves of the difference of logarithms.
 */
function ensembleScores(
  features: Float32Array,
  layers: readonly ScoredLayer[],
  scales: readonly number[],
): { scores: Float32Array; parts: Float32Array; detailRatio?: Float32Array } {
  const width = rowWidth(layers);
  const n = Math.floor(features.length / width);
  const sums = new Float64Array(n);
  const parts = new Float32Array(n * layers.length);
  let detailRatio: Float32Array | undefined;
  let start = 0;
  layers.forEach((layer, l) => {
    const block = columnsOf(features, width, start, layer.size);
    const detail = layer.pooling === 'detail-octaves';
    const nearest = detail ? new Int32Array(n) : undefined;
    const distances = mahalanobisDistances(block, layer.gaussians, nearest);
    for (let i = 0; i < n; i++) {
      const part = distances[i] / scales[l];
      sums[i] += part;
      parts[i * layers.length + l] = part;
    }
    if (nearest) detailRatio = ratiosToNearest(block, layer.size, layer.gaussians.classMeans, nearest);
    start += layer.size;
  });
  return { scores: Float32Array.from(sums), parts, ...(detailRatio ? { detailRatio } : {}) };
}

/** exp(mean over a row's columns of (log feature − the nearest class's mean)): how many times the training detail. */
function ratiosToNearest(
  block: Float32Array,
  size: number,
  classMeans: ArrayLike<number>[],
  nearest: Int32Array,
): Float32Array {
  const out = new Float32Array(nearest.length);
  for (let i = 0; i < nearest.length; i++) {
    const mean = classMeans[nearest[i]];
    let sum = 0;
    for (let k = 0; k < size; k++) sum += block[i * size + k] - mean[k];
    out[i] = Math.exp(sum / size);
  }
  return out;
}

/** A layer's unit: the median of its squared distances; 1 when that is not positive (every image at a mean). */
function scaleOf(distances: Float32Array): number {
  const median = quantile(distances, 0.5);
  return median > 0 && Number.isFinite(median) ? median : 1;
}

/**
 * The feature-ensemble detector from the training images' features (rows of the `layers`' features concatenated in
 * order), each layer's scale and the cut set on validation's (about 1 - `q` of validation flagged).
 */
export function fitFeatureEnsembleDetector(
  train: { features: Float32Array; labels: ArrayLike<number> },
  validationFeatures: Float32Array,
  options: { layers: readonly OodFeatureLayer[]; numClasses: number; q?: number },
): { detector: FeatureEnsembleOodDetector; validation: OodJudgement } {
  const { layers, numClasses, q = OOD_QUANTILE } = options;
  const width = rowWidth(layers);
  if (layers.length === 0) throw new RangeError('fitFeatureEnsembleDetector: no layers.');
  const validationImages = Math.floor(validationFeatures.length / width);
  // Without validation images the training images set the scales, and their largest score stands in for the cut.
  const unitImages = validationImages > 0 ? validationFeatures : train.features;
  let start = 0;
  const fitted = layers.map((layer) => {
    const gaussians = fitClassGaussians(
      columnsOf(train.features, width, start, layer.size),
      train.labels,
      layer.size,
      numClasses,
    );
    const scale = scaleOf(mahalanobisDistances(columnsOf(unitImages, width, start, layer.size), gaussians));
    start += layer.size;
    return { layer, gaussians, scale, size: layer.size, pooling: layer.pooling };
  });
  const scales = fitted.map((f) => f.scale);
  const validation = ensembleScores(validationFeatures, fitted, scales);
  const threshold =
    validationImages > 0
      ? quantile(validation.scores, q)
      : maxOf(ensembleScores(train.features, fitted, scales).scores);
  const detector: FeatureEnsembleOodDetector = {
    method: 'mahalanobis-feature-ensemble',
    layers: fitted.map(({ layer, gaussians, scale }) => ({
      featureLayer: layer.name,
      pooling: layer.pooling,
      classMeans: gaussians.classMeans.map((m) => Array.from(m)),
      precision: Array.from({ length: layer.size }, (_, a) =>
        Array.from(gaussians.precision.subarray(a * layer.size, (a + 1) * layer.size)),
      ),
      shrinkage: gaussians.shrinkage,
      scale,
    })),
    threshold,
    quantile: q,
    trainImages: train.labels.length,
    validationImages,
  };
  return { detector, validation: judgementOf(validation, threshold, layers) };
}

/** A judgement from the scored rows: the scores, the cut, the layers' names and the score's parts. */
function judgementOf(
  scored: ReturnType<typeof ensembleScores>,
  threshold: number,
  layers: readonly { name: string }[],
): OodJudgement {
  return {
    distances: scored.scores,
    threshold,
    layers: layers.map((l) => l.name),
    parts: scored.parts,
    ...(scored.detailRatio ? { detailRatio: scored.detailRatio } : {}),
  };
}

/** Each image's feature-ensemble score; `features` are rows of the detector's layers' features concatenated. */
export function featureEnsembleScores(detector: FeatureEnsembleOodDetector, features: Float32Array): Float32Array {
  return scoredRows(detector, features).scores;
}

/** The judgement of images by a feature ensemble: scores, the cut, and each score's parts (featureEnsemble.ts). */
export function featureEnsembleJudgement(detector: FeatureEnsembleOodDetector, features: Float32Array): OodJudgement {
  return judgementOf(
    scoredRows(detector, features),
    detector.threshold,
    detector.layers.map((l) => ({ name: l.featureLayer })),
  );
}

function scoredRows(detector: FeatureEnsembleOodDetector, features: Float32Array): ReturnType<typeof ensembleScores> {
  const layers = detector.layers.map((l) => ({
    size: l.precision.length,
    pooling: l.pooling,
    gaussians: gaussiansOfMatrices(l),
  }));
  return ensembleScores(
    features,
    layers,
    detector.layers.map((l) => l.scale),
  );
}
