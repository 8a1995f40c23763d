/**
 * The feature ensemble of Lee et al. 2018 (section 2.2): the tied-covariance Gaussians of outOfDistribution.ts fitted
 * on several layers' features, not only the penultimate one. Early layers see intensity, texture and framing, which
 * the penultimate layer of a two-class model throws away: an adult's film can sit among the pneumonia features while
 * its early maps differ at once. Without outside images to learn the layers' weights from (Lee et al. fit them on
 * known outliers), each layer's squared distance is divided by its median over validation, so every layer counts in
 * the same unit, and the scaled distances are summed. Pure arithmetic in float64 (no tfjs); train.py does the same.
 */
import type { FeatureEnsembleOodDetector, OodFeatureLayer, OodJudgement } from '../core/types';
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

/** The sum over layers of each row's squared distance divided by that layer's scale. */
function ensembleScores(
  features: Float32Array,
  layers: readonly { size: number; gaussians: Pick<ClassGaussians, 'featureSize' | 'classMeans' | 'precision'> }[],
  scales: readonly number[],
): Float32Array {
  const width = rowWidth(layers);
  const n = Math.floor(features.length / width);
  const sums = new Float64Array(n);
  let start = 0;
  layers.forEach((layer, l) => {
    const distances = mahalanobisDistances(columnsOf(features, width, start, layer.size), layer.gaussians);
    for (let i = 0; i < n; i++) sums[i] += distances[i] / scales[l];
    start += layer.size;
  });
  return Float32Array.from(sums);
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
    return { layer, gaussians, scale, size: layer.size };
  });
  const scales = fitted.map((f) => f.scale);
  const validationScores = ensembleScores(validationFeatures, fitted, scales);
  const threshold =
    validationImages > 0 ? quantile(validationScores, q) : maxOf(ensembleScores(train.features, fitted, scales));
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
  return { detector, validation: { distances: validationScores, threshold } };
}

/** Each image's feature-ensemble score; `features` are rows of the detector's layers' features concatenated. */
export function featureEnsembleScores(detector: FeatureEnsembleOodDetector, features: Float32Array): Float32Array {
  const layers = detector.layers.map((l) => ({ size: l.precision.length, gaussians: gaussiansOfMatrices(l) }));
  return ensembleScores(
    features,
    layers,
    detector.layers.map((l) => l.scale),
  );
}
