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

export interface TrainSettings {
  imageSize: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  backend: BackendChoice;
  /** Seeds batch shuffling and weight initialisation, so a run can be repeated. */
  seed: number;
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
  | { type: 'exportModel' };

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
}

export interface TestResult {
  loss: number;
  accuracy: number;
  /** Per image: probability of each class, `count * numClasses` values (binary: P(class 1) only, `count` values). */
  scores: Float32Array;
  labels: Uint8Array;
  numClasses: number;
}

export type FromTrainer =
  | { type: 'dataReady'; counts: Record<SplitName, number> }
  | { type: 'backend'; name: string; requested: BackendChoice; note: string }
  | { type: 'modelSummary'; imageSize: number; summary: ModelSummary }
  | { type: 'trainingStarted'; epochs: number; batchesPerEpoch: number; totalBatches: number }
  | ({ type: 'batchEnd' } & BatchMetrics)
  | ({ type: 'epochEnd' } & EpochMetrics)
  | { type: 'evaluating' }
  | ({ type: 'testResult' } & TestResult)
  | { type: 'trainingEnded'; reason: 'completed' | 'stopped'; epochsDone: number }
  | { type: 'modelExported'; modelJson: string; weights: ArrayBuffer; backend: string; epochsDone: number }
  | { type: 'error'; message: string };

// ---------------------------------------------------------------- page <-> decode workers

export type ToDecoder = { type: 'decode'; id: number; blob: Blob; size: number };

export type FromDecoder =
  | { type: 'decoded'; id: number; pixels: Uint8Array }
  | { type: 'decodeFailed'; id: number; message: string };

/** The buffers a message should transfer rather than copy. */
export function transferablesOf(message: ToTrainer | FromTrainer | ToDecoder | FromDecoder): Transferable[] {
  switch (message.type) {
    case 'setData': {
      const sets = [message.train, message.validation, message.test].filter((s): s is ImageSet => s !== null);
      return unique(sets.flatMap((s) => [s.pixels.buffer, s.labels.buffer]));
    }
    case 'testResult':
      return unique([message.scores.buffer, message.labels.buffer]);
    case 'modelExported':
      return [message.weights];
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
