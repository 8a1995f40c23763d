/**
 * The house's vocabulary: the types the page, the data side, the models and the workers all speak.
 * The ground floor of the layering: this folder imports nothing from the rest of `src/`.
 * This file holds the settings (what the form holds: Settings and its groups); the other groups of the vocabulary
 * live beside it (datasetTypes, settingChoices, scoreTypes, modelTypes, trainingProgress) and are re-exported here,
 * so the rest of src/ imports the vocabulary from this one file.
 * No DOM, no tfjs.
 */

import type {
  BackendChoice,
  ClassWeighting,
  IntensityNormalisation,
  LearningRateSchedule,
  OodLayerChoice,
  ModelName,
  GroupBy,
  TestTimeAugmentation,
  ThresholdRule,
} from './settingChoices';

export * from './datasetTypes';
export * from './settingChoices';
export * from './scoreTypes';
export * from './modelTypes';
export * from './trainingProgress';

/** What a training run is told: every field is read by the worker. */
export interface TrainSettings {
  /** Which network to build (MODEL_NAMES). */
  model: ModelName;
  imageSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** `cosine`: the rate falls from `learningRate` to 0 along half a cosine over the run's batches (model/learningRate.ts). */
  learningRateSchedule: LearningRateSchedule;
  backend: BackendChoice;
  /** Seeds batch shuffling and weight initialisation, so a run can be repeated. */
  seed: number;
  /** `balanced`: each class's loss weighs total / (classes * its train images), as Keras' class_weight; `none`: all 1. */
  classWeighting: ClassWeighting;
  /** Epochs without a new lowest validation loss before training stops; 0 = never stop early. */
  patience: number;
  /** Random changes to each training image, a fresh draw every time it is used (augment.ts). */
  augmentation: AugmentationSettings;
  /** The model's first layer: `per-image` standardises each image (a saved run without it trained with `none`). */
  intensityNormalisation: IntensityNormalisation;
  /** Label smoothing (model/recipe.ts): this share of each target spread evenly over the classes; 0 = off. */
  labelSmoothing: number;
  /** Mixup's alpha (model/recipe.ts): images and targets blended in pairs, weight from Beta(alpha, alpha); 0 = off. */
  mixup: number;
  /** Decoupled weight decay (model/recipe.ts): each step shrinks the kernels by learning rate x this; 0 = off. */
  weightDecay: number;
  /**
   * A snapshot ensemble of this many members (model/ensemble.ts): the epochs in as many cosine cycles, the weights
   * at each cycle's end stacked into one model that averages them; 1 = a single model.
   */
  snapshots: number;
  /**
   * A seed ensemble of this many members (worker/seedEnsemble.ts): K whole runs one after another, member k seeded
   * `seed + 1009 * k`, stacked into one model as the snapshot ensemble is; 1 = a single model.
   */
  seedModels: number;
  /** The out-of-distribution detector fitted after training: several layers' features, or the last hidden layer's. */
  ood: OodLayerChoice;
}

/** How the page splits a dataset as it loads it (data/splits.ts, data/testHoldout.ts); the worker never sees these. */
export interface SplitSettings {
  /** Percent of each class of train held out for validation when the val folder is too small. */
  validationPercent: number;
  /** Percent of each class of train held out as the test split when the archive has no test folder (0 = none). */
  testPercent: number;
  /** A regular expression on file names: matching train images (whole patients) are the test split instead ('' = off). */
  testPattern: string;
  /** How images are grouped into patients, so that no patient is on both sides of a split (data/patients.ts). */
  groupBy: GroupBy;
  /** With `groupBy` `regex`: a regular expression on the file name; its first capture group (else the match) is the patient. */
  groupPattern: string;
}

/**
 * How the page reports a trained model (the Results section); read by the page and sent with each `evaluate`
 * request, so a change needs no retraining.
 */
export interface EvalSettings {
  /** `fixed` (0.5), maximum Youden J on validation, or the highest threshold reaching `targetSensitivity` on validation. */
  thresholdRule: ThresholdRule;
  /** Percent of the validation positives the `sensitivity` rule must find. */
  targetSensitivity: number;
  /** Fit a temperature on validation and apply it to the scores of the calibration figures. */
  temperatureScaling: boolean;
  /** Score validation and test (and Predict's images) as the mean over these views of each image. */
  testTimeAugmentation: TestTimeAugmentation;
}

/** Everything the settings form holds. */
export type Settings = TrainSettings & SplitSettings & EvalSettings;

/**
 * Training-time augmentation, as Keras' ImageDataGenerator: every range is symmetric around "no change",
 * and 0 (false) turns that change off.
 */
export interface AugmentationSettings {
  /** Rotation up to this many degrees either way (rotation_range). */
  rotation: number;
  /** Zoom factor in 1 - zoom .. 1 + zoom, drawn for each axis (zoom_range). */
  zoom: number;
  /** Shift up to this fraction of the width and of the height (width_shift_range, height_shift_range). */
  shift: number;
  /** Shear up to this many degrees either way (shear_range, in degrees as Keras takes it). */
  shear: number;
  /** Brightness factor in 1 - brightness .. 1 + brightness (brightness_range), then clipped to 0..1. */
  brightness: number;
  /** Mirror left-right half of the time (horizontal_flip). */
  horizontalFlip: boolean;
  /**
   * The changes below mimic another machine or site (augment.ts): each image's own draw, from a stream apart
   * from the one above. Contrast: the spread around the image's mean scaled by 1 - contrast .. 1 + contrast.
   */
  contrast: number;
  /** Gamma: pixel values (0..1) raised to a power from 1 / (1 + gamma) to 1 + gamma, log-uniform. */
  gamma: number;
  /** Blur: a Gaussian blur of this sigma (pixels at the image size) mixed in at a weight drawn from 0 to 1. */
  blur: number;
  /** Noise: Gaussian noise of a standard deviation drawn from 0 to this (on 0..1 pixel values). */
  noise: number;
  /**
   * Framing (augment.ts framingParams, a stream of its own): half the images, at random, are cropped to a square
   * window 1 - crop .. 1 times the side, anywhere inside the image, and scaled back to the full size.
   */
  crop: number;
}
