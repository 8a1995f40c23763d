/**
 * Is an image unlike the images a model was trained on? The Mahalanobis detector of Lee et al. 2018 ("A Simple
 * Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks"): the training images'
 * features (a layer's output, here the Dense layer before the output) as one Gaussian a class with one shared
 * (tied) covariance; an image's score is its squared Mahalanobis distance to the nearest class mean. The
 * covariance is shrunk towards a scaled identity by Ledoit-Wolf's rule (as sklearn.covariance.ledoit_wolf), so it
 * can be inverted with few images or dead ReLU units. The cut is a quantile of validation's scores.
 * Pure arithmetic in float64 (no tfjs); the PyTorch bundle's train.py computes the same.
 * The arithmetic is classGaussians.ts'; a detector read from a file is checked by oodDetectorCheck.ts.
 */
import type { OodDetector, OodJudgement } from '../core/types';
import { fitClassGaussians, mahalanobisDistances, type ClassGaussians } from './classGaussians';

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
