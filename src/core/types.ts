/**
 * The house's vocabulary: the types the page, the data side, the models and the workers all speak.
 * The ground floor of the layering: this folder imports nothing from the rest of `src/`.
 * No DOM, no tfjs.
 */

export type SplitName = 'train' | 'validation' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

/** Backends the user may pick; `auto` lets the worker choose. */
export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** Decoded images of one split: one byte a pixel (grey), `count` squares of `size` x `size`, row-major. */
export interface ImageSet {
  size: number;
  count: number;
  pixels: Uint8Array;
  /** Class index of each image, in `classNames` order. */
  labels: Uint8Array;
  /**
   * The patient (group) of each image, as an id shared by the images of one patient, where the file names
   * say who it is (data/patients.ts); absent when unknown. Splits never share a group, and confidence
   * intervals resample groups rather than images.
   */
  groups?: Uint32Array;
}

/** A decoded dataset ready to train on: what the page hands the training worker, and what it keeps. */
export interface Splits {
  /** Sorted as Keras sorts class folders; the model's output order. */
  classNames: string[];
  train: ImageSet;
  validation: ImageSet;
  test: ImageSet | null;
}

/**
 * The networks one can train (model/models.ts builds each): the Keras tutorial's CNN exactly as it is, and the
 * same four blocks with BatchNormalization after each convolution.
 */
export type ModelName = 'tutorial' | 'batchnorm';
export const MODEL_NAMES: readonly ModelName[] = ['tutorial', 'batchnorm'];

export type ClassWeighting = 'balanced' | 'none';
export const CLASS_WEIGHTINGS: readonly ClassWeighting[] = ['balanced', 'none'];

/** How the learning rate moves over a run: held (the tutorial), or cosine decay to 0 over the run's steps. */
export type LearningRateSchedule = 'constant' | 'cosine';
export const LEARNING_RATE_SCHEDULES: readonly LearningRateSchedule[] = ['constant', 'cosine'];

/**
 * What the model does to each image before its first convolution, as its first layer (model/intensityNormalisation.ts):
 * nothing, or per-image standardisation (subtract the image's mean, divide by max(its std, 1/sqrt(pixels))), as
 * tf.image.per_image_standardization. Part of the model, so every use and every export of it sees the same.
 */
export type IntensityNormalisation = 'none' | 'per-image';
export const INTENSITY_NORMALISATIONS: readonly IntensityNormalisation[] = ['none', 'per-image'];

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
}

/** What a model's metadata says of an ensemble saved as one model (model/ensemble.ts); absent for a single model. */
export interface EnsembleInfo {
  kind: 'snapshot';
  members: number;
}

/** A trained (or loaded) ensemble as the page keeps it: what it is, and what its predictions cost. */
export interface EnsembleRun extends EnsembleInfo {
  /** The stacked model's predict time over one member's, timed on the run's backend at its end; null when not timed. */
  predictTimeRatio: number | null;
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

/** `patient`: from file names of the chest X-ray dataset's shapes; `regex`: a pattern of one's own; `none`: each image alone. */
export type GroupBy = 'patient' | 'regex' | 'none';
export const GROUP_BYS: readonly GroupBy[] = ['patient', 'regex', 'none'];

/** How the decision threshold of the reported figures is chosen, on validation (eval/thresholdRules.ts). */
export type ThresholdRule = 'fixed' | 'youden' | 'sensitivity';
export const THRESHOLD_RULES: readonly ThresholdRule[] = ['fixed', 'youden', 'sensitivity'];

/**
 * Test-time augmentation (worker/testTimeAugmentation.ts): each image scored as it is, or as the mean of its scores
 * over a few small shifts and scales of it, and their mirror images too.
 */
export type TestTimeAugmentation = 'off' | 'shift-scale' | 'shift-scale-flip';
export const TEST_TIME_AUGMENTATIONS: readonly TestTimeAugmentation[] = ['off', 'shift-scale', 'shift-scale-flip'];
/** How many views each kind scores an image over (testTimeAugmentation.test.ts checks the worker agrees). */
export const TTA_VIEW_COUNT: Readonly<Record<TestTimeAugmentation, number>> = {
  off: 1,
  'shift-scale': 7,
  'shift-scale-flip': 14,
};

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
}

export interface LayerSummary {
  name: string;
  className: string;
  /** e.g. "[null,149,149,32]" */
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
}

/**
 * A model in the TensorFlow.js layers format: the text of model.json (topology and weights manifest, with one
 * weights file) and that file's bytes. With the optimizer's state (a checkpoint), its weights follow the model's.
 */
export interface ModelFiles {
  modelJson: string;
  weights: ArrayBuffer;
}

/** One image of a loaded dataset as the page used it (the PyTorch bundle's manifest.csv). */
export interface ManifestRow {
  /** The image's path inside the user's dataset (the archive's path, or the dropped folder's). */
  path: string;
  split: SplitName;
  className: string;
  /** The patient (group) the page kept on one side of every split; null when the file name gives none. */
  group: string | null;
}

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
 * Lee et al. 2018): the training images' features (the output of `featureLayer`, the Dense layer before the output)
 * as one Gaussian a class with one shared covariance, shrunk towards a scaled identity (Ledoit-Wolf). An image's
 * score is its squared Mahalanobis distance to the nearest class mean; above `threshold` it is unlike the training
 * data. Kept in model.json (userDefinedMetadata) and metadata.json (`outOfDistribution`).
 */
export interface OodDetector {
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

/** A model's out-of-distribution judgement of some images: squared Mahalanobis distances and the detector's cut. */
export interface OodJudgement {
  distances: Float32Array;
  /** An image is unlike the training data when its distance is above this. */
  threshold: number;
}

/** The kept model's scores on validation and test (null without a test split): what `evaluate` reports from. */
export interface KeptScores {
  validation: ScoredSplit;
  test: ScoredSplit | null;
}

/** Everything a downloaded model needs beside its weights to be used correctly. */
export interface ModelMetadata {
  /** The network (MODEL_NAMES) the weights belong to. */
  model: ModelName;
  classNames: string[];
  imageSize: number;
  channels: 1;
  /** How pixels must be prepared before `predict`. */
  normalisation: string;
  output: 'sigmoid' | 'softmax';
  /** The class whose probability the single sigmoid unit gives (binary models only). */
  positiveClass: string | null;
  /**
   * The operating point of the page's reported figures: `thresholdClass` is predicted when its probability is at
   * least `threshold`, chosen as `thresholdRule` says (on validation); all null when the page had no report.
   */
  threshold: number | null;
  thresholdClass: string | null;
  thresholdRule: string | null;
  resize: string;
  trainedEpochs: number;
  backend: string;
  createdAt: string;
  /** How an image is judged unlike the training data; absent or null when the model carries none. */
  outOfDistribution?: OodDetector | null;
  /**
   * The test-time augmentation the threshold was chosen with (its scores are the mean over these views of each
   * image, worker/testTimeAugmentation.ts); absent or `off`: the model's plain output.
   */
  testTimeAugmentation?: TestTimeAugmentation;
  /** A snapshot ensemble saved as one model (its output the mean of its members'); absent for a single model. */
  ensemble?: EnsembleInfo;
}

export interface BatchMetrics {
  epoch: number;
  batch: number;
  batchesDone: number;
  totalBatches: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** The epoch (0-based) with the lowest validation loss so far; -1 while none has a finite one. */
  bestEpoch: number;
  /** tf.memory().numTensors in the worker at the end of the epoch (a leak shows as growth). */
  tensors: number;
}

export interface TestResult {
  loss: number;
  accuracy: number;
  /** Per image: probability of each class, `count * numClasses` values (binary: P(class 1) only, `count` values). */
  scores: Float32Array;
  labels: Uint8Array;
  numClasses: number;
  /**
   * Pixels of the images that can be misclassified worst at some decision threshold (see
   * `misclassifiedCandidates`): `indices` into the evaluated split, `count` squares of `size` px.
   */
  gallery: { indices: Uint32Array; pixels: Uint8Array; size: number };
  /** Whether each image is unlike the training data; absent when the model carries no OodDetector. */
  ood?: OodJudgement;
}

/** How a run ended, for the page's words and marks. */
export interface TrainingOutcome {
  /** `early-stopped`: validation loss did not improve for `patience` epochs. */
  reason: 'completed' | 'stopped' | 'early-stopped';
  epochsDone: number;
  /** The epoch (0-based) with the lowest validation loss; null when no epoch was validated. */
  bestEpoch: number | null;
  /** True when the model was given back the best epoch's weights (it then is the model evaluated and exported). */
  restoredBest: boolean;
}
