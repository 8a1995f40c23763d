/**
 * The one protocol between the page and its workers (training worker and decode workers).
 * Both sides import these types; every handler switches exhaustively over `type`.
 * Large buffers (pixels, weights) are transferred, never copied: see `transferablesOf`.
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
}

export type ClassWeighting = 'balanced' | 'none';
export const CLASS_WEIGHTINGS: readonly ClassWeighting[] = ['balanced', 'none'];

export interface TrainSettings {
  imageSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  backend: BackendChoice;
  /** Seeds batch shuffling and weight initialisation, so a run can be repeated. */
  seed: number;
  /** `balanced`: each class's loss weighs total / (classes * its train images), as Keras' class_weight; `none`: all 1. */
  classWeighting: ClassWeighting;
  /** Epochs without a new lowest validation loss before training stops; 0 = never stop early. */
  patience: number;
  /** Random changes to each training image, a fresh draw every time it is used (augment.ts). */
  augmentation: AugmentationSettings;
  /**
   * Percent of each class of train held out for validation when the val folder is too small
   * (data/splits.ts). Used by the page when it loads the dataset; the worker does not read it.
   */
  validationPercent: number;
  /**
   * Percent of each class of train held out as the test split when the archive has no test folder
   * (data/testHoldout.ts; absent or 0 = none). Used by the page when it loads the dataset.
   */
  testPercent?: number;
}

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

/** Everything a downloaded model needs beside its weights to be used correctly. */
export interface ModelMetadata {
  classNames: string[];
  imageSize: number;
  channels: 1;
  /** How pixels must be prepared before `predict`. */
  normalisation: string;
  output: 'sigmoid' | 'softmax';
  /** The class whose probability the single sigmoid unit gives (binary models only). */
  positiveClass: string | null;
  resize: string;
  trainedEpochs: number;
  backend: string;
  createdAt: string;
}

// ---------------------------------------------------------------- page -> training worker

export type ToTrainer =
  /** Hands the decoded splits to the worker, which keeps them for every run until replaced. */
  | { type: 'setData'; classNames: string[]; train: ImageSet; validation: ImageSet; test: ImageSet | null }
  /** Asks for the model summary of the reference CNN at this size (no training). */
  | { type: 'describeModel'; imageSize: number; numClasses: number }
  | { type: 'train'; settings: TrainSettings }
  /** Ends training after the current batch; the model is kept as it is. */
  | { type: 'stop' }
  /** Asks for the trained model as TensorFlow.js layers-format artifacts. */
  | { type: 'exportModel' }
  /**
   * Asks for `count` training images (the first of the sample grid's picks for `seed`), each augmented
   * `variants` times with `augmentation`, exactly as training would: answered by augmentationPreview.
   */
  | { type: 'previewAugmentation'; id: number; augmentation: AugmentationSettings; seed: number; count: number; variants: number };

// ---------------------------------------------------------------- training worker -> page

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

export type FromTrainer =
  | { type: 'dataReady'; counts: Record<SplitName, number> }
  | { type: 'backend'; name: string; requested: BackendChoice; note: string }
  | { type: 'modelSummary'; imageSize: number; summary: ModelSummary }
  /** classWeights: the loss weight of each class (null when weighting is off). */
  | { type: 'trainingStarted'; epochs: number; batchesPerEpoch: number; totalBatches: number; classWeights: number[] | null }
  | ({ type: 'batchEnd' } & BatchMetrics)
  | ({ type: 'epochEnd' } & EpochMetrics)
  | { type: 'evaluating' }
  | ({ type: 'testResult' } & TestResult)
  | ({ type: 'trainingEnded' } & TrainingOutcome)
  | { type: 'modelExported'; modelJson: string; weights: ArrayBuffer; backend: string; epochsDone: number }
  /**
   * The answer to previewAugmentation `id`: `count * variants` grey images of `size` x `size`, one byte a
   * pixel, sample by sample (variants of a sample together); `classes[i]` is sample i's class name.
   */
  | { type: 'augmentationPreview'; id: number; size: number; count: number; variants: number; classes: string[]; pixels: Uint8Array }
  | { type: 'error'; message: string };

// ---------------------------------------------------------------- page <-> decode workers

/**
 * Where a zip entry's bytes lie in the archive, so a decode worker slices (and inflates) them itself
 * and no image byte crosses the page's thread.
 */
export interface ZipEntryRef {
  archive: Blob;
  /** Offset of the entry's local header in the archive. */
  offset: number;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  compressedSize: number;
  /** Uncompressed size, as the table of contents declares it. */
  size: number;
  crc32: number;
  path: string;
  /** Zip-bomb cap on one entry. */
  maxEntryBytes: number;
}

/** Decode `blob`, or the zip entry `zip`, to `size` x `size` grey bytes. */
export type ToDecoder = { type: 'decode'; id: number; size: number } & ({ blob: Blob; zip?: undefined } | { zip: ZipEntryRef; blob?: undefined });

export type FromDecoder =
  /** sourceWidth/sourceHeight: the stored image's size from its header (0 when unknown), for megapixel figures. */
  | { type: 'decoded'; id: number; pixels: Uint8Array; sourceWidth: number; sourceHeight: number; bytesRead: number; readMs: number }
  /** tooLarge: the entry inflated past its cap (a zip bomb), skipped as 'too-large' rather than 'decode-failed'. */
  | { type: 'decodeFailed'; id: number; message: string; tooLarge?: boolean };

/** The buffers a message should transfer rather than copy. */
export function transferablesOf(message: ToTrainer | FromTrainer | ToDecoder | FromDecoder): Transferable[] {
  switch (message.type) {
    case 'setData': {
      const sets = [message.train, message.validation, message.test].filter((s): s is ImageSet => s !== null);
      return unique(sets.flatMap((s) => [s.pixels.buffer, s.labels.buffer]));
    }
    case 'testResult':
      return unique([message.scores.buffer, message.labels.buffer, message.gallery.indices.buffer, message.gallery.pixels.buffer]);
    case 'modelExported':
      return [message.weights];
    case 'augmentationPreview':
      return unique([message.pixels.buffer]);
    case 'decoded':
      return [message.pixels.buffer];
    default:
      return [];
  }
}

function unique(buffers: ArrayBufferLike[]): Transferable[] {
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
}

/** For exhaustive switches: a compile error when a message type is not handled. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled message: ${JSON.stringify(value)}`);
}
