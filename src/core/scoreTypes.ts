/**
 * A model's scores on a split, and its judgement of which images are unlike its training data: what reports,
 * intervals, calibration and the out-of-distribution warnings are computed from. No DOM, no tfjs.
 */

/** A split's scores from one model: what reports, intervals and calibration are computed from. */
export interface ScoredSplit {
  /** Binary: P(class 1) per image; otherwise numClasses probabilities per image, row after row. */
  scores: Float32Array;
  labels: Uint8Array;
  /** Patient of each image, where known. */
  groups?: Uint32Array;
  /** Whether each image is unlike the training data; absent when the model carries no OodDetector. */
  ood?: OodJudgement;
}

/**
 * What judging "is this image unlike the images the model was trained on?" needs (eval/outOfDistribution.ts, after
 * Lee et al. 2018). Kept in model.json (userDefinedMetadata) and metadata.json (`outOfDistribution`). Two methods:
 * one layer's features (`PenultimateOodDetector`, what models before the feature ensemble carry) or several layers'
 * (`FeatureEnsembleOodDetector`).
 */
export type OodDetector = PenultimateOodDetector | FeatureEnsembleOodDetector;

/**
 * The training images' features (the output of `featureLayer`, the Dense layer before the output) as one Gaussian a
 * class with one shared covariance, shrunk towards a scaled identity (Ledoit-Wolf). An image's score is its squared
 * Mahalanobis distance to the nearest class mean; above `threshold` it is unlike the training data.
 */
export interface PenultimateOodDetector {
  method: 'mahalanobis-tied-covariance';
  /** The layer whose output is the feature vector (e.g. `dense_1`, the Dense 64 before Dropout). */
  featureLayer: string;
  /** One mean feature vector a class with training images, in the model's class order. */
  classMeans: number[][];
  /** The inverse of the shared, shrunk covariance: featureSize rows of featureSize numbers. */
  precision: number[][];
  /** Squared distance above which an image is unlike the training data: the `quantile` of validation's distances. */
  threshold: number;
  /** 0.95: about 5% of validation images are above the threshold. */
  quantile: number;
  /** Ledoit-Wolf's weight of the scaled identity in the covariance (0..1). */
  shrinkage: number;
  trainImages: number;
  validationImages: number;
}

/**
 * How a layer's output becomes an image's feature row: a 4-D map averaged over its rows and columns, a flat output as
 * it is, or (`detail-octaves`, only for the pseudo-layer `image`, the model's input) how much fine detail the image
 * has at four scales (model/imageDetail.ts).
 */
export type OodPooling = 'spatial-mean' | 'none' | 'detail-octaves';

/** The pseudo-layer name the detector gives the input's detail (no model layer is read for it). */
export const IMAGE_DETAIL_LAYER = 'image';

/** A layer the detector reads, and how many features it gives an image (after pooling). */
export interface OodFeatureLayer {
  name: string;
  size: number;
  pooling: OodPooling;
}

/** One layer's Gaussians in a feature ensemble, and the scale its distances are divided by. */
export interface OodLayerStatistics {
  featureLayer: string;
  pooling: OodPooling;
  /** One mean feature vector a class with training images. */
  classMeans: number[][];
  /** The inverse of the shared, shrunk covariance of this layer's features. */
  precision: number[][];
  shrinkage: number;
  /** The median of this layer's squared distances over validation (training when there is none): its unit. */
  scale: number;
}

/**
 * Lee et al. 2018's feature ensemble: a tied-covariance Gaussian a class on each of several layers' features (4-D
 * maps averaged over space). An image's score is the sum over layers of its squared Mahalanobis distance to the
 * nearest class mean divided by that layer's `scale`; above `threshold` it is unlike the training data. The
 * features of an image are the layers' rows concatenated in `layers` order.
 */
export interface FeatureEnsembleOodDetector {
  method: 'mahalanobis-feature-ensemble';
  layers: OodLayerStatistics[];
  /** Score above which an image is unlike the training data: the `quantile` of validation's scores. */
  threshold: number;
  quantile: number;
  trainImages: number;
  validationImages: number;
}

/**
 * A model's out-of-distribution judgement of some images: each image's score (a squared Mahalanobis distance, or the
 * feature ensemble's sum of scaled ones) and the detector's cut.
 */
export interface OodJudgement {
  distances: Float32Array;
  /** An image is unlike the training data when its distance is above this. */
  threshold: number;
  /** The layers whose features were judged (several: the feature ensemble); absent in judgements kept before it. */
  layers?: string[];
  /**
   * The feature ensemble's score taken apart: each image's distance on each of `layers`, in units of that layer's
   * median on validation, row after row (`layers.length` a row). The score is their sum.
   */
  parts?: Float32Array;
  /**
   * With the image's detail among the layers: each image's fine detail against the nearest class of training images,
   * as a ratio (below 1: softer than the training films; above: sharper or noisier).
   */
  detailRatio?: Float32Array;
}

/** The kept model's scores on validation and test (null without a test split): what `evaluate` reports from. */
export interface KeptScores {
  validation: ScoredSplit;
  test: ScoredSplit | null;
}
