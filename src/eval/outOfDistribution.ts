/**
 * Is an image unlike the images a model was trained on? The Mahalanobis detector of Lee et al. 2018 ("A Simple
 * Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks"): the training images'
 * features (a layer's output, here the Dense layer before the output) as one Gaussian a class with one shared
 * (tied) covariance; an image's score is its squared Mahalanobis distance to the nearest class mean. The
 * covariance is shrunk towards a scaled identity by Ledoit-Wolf's rule (as sklearn.covariance.ledoit_wolf), so it
 * can be inverted with few images or dead ReLU units. The cut is a quantile of validation's scores.
 * Pure arithmetic in float64 (no tfjs); the PyTorch bundle's train.py computes the same.
 * The arithmetic is classGaussians.ts'; a detector read from a file is checked by oodDetectorCheck.ts. The same
 * Gaussians on several layers at once, Lee et al.'s feature ensemble, are featureEnsemble.ts'.
 */
import type { OodDetector, OodFeatureLayer, OodJudgement, PenultimateOodDetector } from '../core/types';
import { fitClassGaussians, mahalanobisDistances } from './classGaussians';
import { featureEnsembleJudgement } from './featureEnsemble';
import { gaussiansOfMatrices, maxOf, OOD_QUANTILE, quantile } from './oodArithmetic';

export { OOD_QUANTILE, quantile } from './oodArithmetic';

/**
 * The detector from the training features, its cut set so that about 1 - `q` of the validation images (their
 * features given) are flagged.
 */
export function fitOodDetector(
  train: { features: Float32Array; labels: ArrayLike<number> },
  validationFeatures: Float32Array,
  options: { featureSize: number; numClasses: number; featureLayer: string; q?: number },
): { detector: PenultimateOodDetector; validation: OodJudgement } {
  const { featureSize, numClasses, featureLayer, q = OOD_QUANTILE } = options;
  const gaussians = fitClassGaussians(train.features, train.labels, featureSize, numClasses);
  const distances = mahalanobisDistances(validationFeatures, gaussians);
  // Without validation images nothing can set the cut: the largest training distance stands in.
  const threshold =
    distances.length > 0 ? quantile(distances, q) : maxOf(mahalanobisDistances(train.features, gaussians));
  const detector: PenultimateOodDetector = {
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

/**
 * The judgement of images whose features are `features`: rows of the detector's layers' features, concatenated in
 * the order `oodFeatureLayers` gives.
 */
export function judge(detector: OodDetector, features: Float32Array): OodJudgement {
  if (detector.method === 'mahalanobis-feature-ensemble') return featureEnsembleJudgement(detector, features);
  const distances = mahalanobisDistances(features, gaussiansOfMatrices(detector));
  return { distances, threshold: detector.threshold, layers: [detector.featureLayer] };
}

/** The layers a detector reads, in the order their features are concatenated in a row. */
export function oodFeatureLayers(detector: OodDetector): OodFeatureLayer[] {
  return detector.method === 'mahalanobis-feature-ensemble'
    ? detector.layers.map((l) => ({ name: l.featureLayer, size: l.precision.length, pooling: l.pooling }))
    : [{ name: detector.featureLayer, size: detector.precision.length, pooling: 'none' }];
}

/** How many of the judged images are unlike the training data. */
export function countUnlike(judgement: OodJudgement): number {
  let flagged = 0;
  for (const d of judgement.distances) if (d > judgement.threshold) flagged++;
  return flagged;
}
