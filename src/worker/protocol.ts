/**
 * The protocol between the page and the training worker. Every request carries an id chosen by the
 * page; every progress message, reply and error names the request it belongs to, so a failure fails
 * that request alone. Both sides switch exhaustively over `type`. Large buffers (pixels, weights) are
 * transferred, never copied: see `trainerTransferables`.
 */
import type {
  AugmentationSettings,
  BackendChoice,
  BatchMetrics,
  EpochMetrics,
  EvalSettings,
  ModelName,
  ModelSummary,
  SplitName,
  Splits,
  TestResult,
  TrainSettings,
  TrainingOutcome,
} from '../core/types';
import type { EvaluationReport } from '../eval/report';

// ---------------------------------------------------------------- requests: page -> worker

/** What the page can ask of the training worker, by request type. */
export interface TrainerRequests {
  /** Hands the decoded splits to the worker, which keeps them for every run until replaced. */
  setData: { splits: Splits };
  /** The layer table of model `model` at this size (no training). */
  describeModel: { model: ModelName; imageSize: number; numClasses: number };
  /** A training run, then its evaluation; progress messages follow it (TrainProgress). */
  train: { settings: TrainSettings };
  /** Ends the run started by request `run` after its current batch; the model is kept as it is. */
  stop: { run: number };
  /** The trained model as TensorFlow.js layers-format artifacts. */
  exportModel: Record<never, never>;
  /**
   * The train images at `indices` (the page's sample picks), each augmented `variants` times with
   * `augmentation` exactly as training would, drawn from a stream seeded by `seed`.
   */
  previewAugmentation: { augmentation: AugmentationSettings; indices: number[]; variants: number; seed: number };
  /**
   * The last run's report for this positive class and these settings: the operating point chosen on validation,
   * validation and test figures at it with bootstrap intervals, calibration, shift (eval/report.ts). No retraining.
   */
  evaluate: { positiveClass: number; settings: EvalSettings };
  /** The pixels of some images of the evaluated split (test, else validation), by index: a confusion-matrix cell's. */
  evaluatedImages: { indices: number[] };
}

export type TrainerRequestType = keyof TrainerRequests;
export type TrainerRequest = { [K in TrainerRequestType]: { type: K } & TrainerRequests[K] }[TrainerRequestType];
export type TrainerRequestOf<K extends TrainerRequestType> = Extract<TrainerRequest, { type: K }>;

/** A request on the wire: the page's id for it, and the request. */
export interface ToTrainer {
  id: number;
  request: TrainerRequest;
}

// ---------------------------------------------------------------- replies and progress: worker -> page

export interface ExportedModel {
  modelJson: string;
  weights: ArrayBuffer;
  backend: string;
  epochsDone: number;
}

/**
 * `count * variants` grey images of `size` x `size`, one byte a pixel, sample by sample (variants of a
 * sample together); `classes[i]` is sample i's class name.
 */
export interface AugmentationPreview {
  size: number;
  count: number;
  variants: number;
  classes: string[];
  pixels: Uint8Array;
}

/** The answer to each request type. */
export interface TrainerReplies {
  setData: { counts: Record<SplitName, number> };
  describeModel: { model: ModelName; imageSize: number; summary: ModelSummary };
  /** How the run ended; `test` is the evaluation (null when the run was superseded by new data). */
  train: TrainingOutcome & { test: TestResult | null };
  /** Whether a run was there to stop. */
  stop: { stopping: boolean };
  exportModel: ExportedModel;
  previewAugmentation: AugmentationPreview;
  evaluate: { report: EvaluationReport };
  /** `indices.length` grey images of `size` px, one byte a pixel, in the order asked. */
  evaluatedImages: { size: number; indices: Uint32Array; pixels: Uint8Array };
}

export type TrainerReply = { [K in TrainerRequestType]: { type: K } & TrainerReplies[K] }[TrainerRequestType];

/** What a training run reports while it goes. */
export type TrainProgress =
  | { type: 'backend'; name: string; requested: BackendChoice; note: string }
  /** classWeights: the loss weight of each class (null when weighting is off). */
  | { type: 'trainingStarted'; epochs: number; batchesPerEpoch: number; totalBatches: number; classWeights: number[] | null }
  | ({ type: 'batchEnd' } & BatchMetrics)
  | ({ type: 'epochEnd' } & EpochMetrics)
  | { type: 'evaluating' };

export type FromTrainer =
  | { type: 'progress'; id: number; progress: TrainProgress }
  | { type: 'reply'; id: number; reply: TrainerReply }
  /** Request `id` failed; the message is written for the person using the app. */
  | { type: 'error'; id: number; message: string };

/** The buffers a message should transfer rather than copy. */
export function trainerTransferables(message: ToTrainer | FromTrainer): Transferable[] {
  if ('request' in message) {
    if (message.request.type !== 'setData') return [];
    const { train, validation, test } = message.request.splits;
    return unique([train, validation, test].flatMap((s) => (s ? [s.pixels.buffer, s.labels.buffer, ...(s.groups ? [s.groups.buffer] : [])] : [])));
  }
  switch (message.type) {
    case 'progress':
    case 'error':
      return [];
    case 'reply': {
      const reply = message.reply;
      if (reply.type === 'train') return reply.test ? testResultBuffers(reply.test) : [];
      if (reply.type === 'exportModel') return unique([reply.weights]);
      if (reply.type === 'previewAugmentation') return unique([reply.pixels.buffer]);
      if (reply.type === 'evaluatedImages') return unique([reply.pixels.buffer, reply.indices.buffer]);
      return [];
    }
  }
}

function testResultBuffers(result: TestResult): Transferable[] {
  return unique([result.scores.buffer, result.labels.buffer, result.gallery.indices.buffer, result.gallery.pixels.buffer]);
}

function unique(buffers: ArrayBufferLike[]): Transferable[] {
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
}
