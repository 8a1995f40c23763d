/**
 * The protocol between the page and the training worker. Every request carries an id chosen by the
 * page; every progress message, reply and error names the request it belongs to, so a failure fails
 * that request alone. Both sides switch exhaustively over `type`. Large buffers (pixels, weights) are
 * transferred, never copied: see `trainerTransferables` (transferables.ts).
 */
import type {
  AugmentationSettings,
  BackendChoice,
  BatchMetrics,
  EpochMetrics,
  EvalSettings,
  ModelFiles,
  ModelMetadata,
  ModelName,
  ModelSummary,
  OodDetector,
  OodJudgement,
  SplitName,
  Splits,
  TestResult,
  TestTimeAugmentation,
  TrainSettings,
  TrainingOutcome,
} from '../core/types';
import type { EvaluationReport } from '../eval/report';
import type { ShiftCheckScores } from '../core/acquisitionShifts';
import type { EnsembleRun, IntensityNormalisation, KeptScores } from '../core/types';

export type { KeptScores };

/**
 * Where a resumed run starts: the last finished epoch's checkpoint (weights and optimizer state), and the best
 * epoch so far with its weights, so early stopping goes on comparing with it.
 */
export interface ResumeFrom {
  checkpoint: ModelFiles;
  epochsDone: number;
  batchesDone: number;
  best: { epoch: number; valLoss: number; files: ModelFiles } | null;
  /** A snapshot-ensemble run's snapshots taken by the checkpoint's epoch (model/snapshotFiles.ts); null: none yet. */
  snapshots?: ModelFiles | null;
}

/**
 * A model's answers for some images: scores as `TestResult.scores`; Grad-CAM maps (0..1) `mapSide` px a side; whether
 * each image is unlike the training data (null when the model carries no detector).
 */
export interface Predictions {
  scores: Float32Array;
  ood: OodJudgement | null;
  /** The class whose evidence each map shows (the predicted one), per image. */
  mapClasses: Uint8Array;
  maps: Float32Array;
  mapSide: number;
}

// ---------------------------------------------------------------- requests: page -> worker

/** What the page can ask of the training worker, by request type. */
export interface TrainerRequests {
  /** Hands the decoded splits to the worker, which keeps them for every run until replaced. */
  setData: { splits: Splits };
  /** The layer table of model `model` at this size (no training), with its intensity normalisation layer if any. */
  describeModel: {
    model: ModelName;
    imageSize: number;
    numClasses: number;
    intensityNormalisation?: IntensityNormalisation;
    /** An ensemble of this many members saved as one model (the stacked model that will be saved); absent: 1. */
    members?: number;
  };
  /**
   * A training run, then its evaluation; progress messages follow it (TrainProgress). With `resume`, `settings.epochs`
   * more epochs continue the run the checkpoint came from.
   */
  train: { settings: TrainSettings; resume?: ResumeFrom };
  /**
   * Makes `files` the worker's model (a saved run after a reload, or a loaded model file), with the scores of its
   * evaluation when known (then `evaluate` answers again). `model` names the network when it is one of the app's.
   */
  restoreModel: {
    files: ModelFiles;
    model: ModelName | null;
    numClasses: number;
    scores: KeptScores | null;
    epochs: number;
  };
  /**
   * The model's scores for `count` grey images of `size` px (one byte a pixel), with Grad-CAM maps when `explain`, each
   * for the class predicted at `threshold` (P(class 1) at least it; binary models; 0.5 when null).
   */
  predict: {
    pixels: Uint8Array;
    count: number;
    size: number;
    explain: boolean;
    threshold: number | null;
    /** Scores as the mean over these views of each image (testTimeAugmentation.ts); absent: one view. */
    testTimeAugmentation?: TestTimeAugmentation;
  };
  /** Scores the worker's model (restored or loaded) on the loaded dataset's validation and test splits, without training. */
  evaluateModel: { batchSize: number };
  /** Ends the run started by request `run` after its current batch; the model is kept as it is. */
  stop: { run: number };
  /** Holds the run started by request `run` after its current batch (`paused`), or lets it go on. */
  pause: { run: number; paused: boolean };
  /**
   * The model as TensorFlow.js layers-format files, and with `format` 'onnx' or 'keras' also as that file
   * (`converted`), written with `metadata` (class names, size, threshold) inside it.
   */
  exportModel: { format?: 'tfjs' | 'onnx' | 'keras'; metadata?: ModelMetadata };
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
  /**
   * The same report with the test split scored by the model with its BatchNorm statistics re-estimated on the test
   * images (test-time adaptation, model/adaptBatchNorm.ts); the threshold is still chosen on validation, unadapted.
   */
  adaptedReport: { positiveClass: number; settings: EvalSettings };
  /**
   * A fixed sample of the evaluated split (test, else validation) scored as it is and under each acquisition shift
   * (worker/shiftCheck.ts), each image judged unlike the training data or not; the page scores it at its threshold.
   */
  shiftCheck: object;
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
  /** The .onnx or .h5 file's bytes, when asked for. */
  converted?: Uint8Array;
  /** The model's out-of-distribution detector (also in model.json), for metadata.json; null when it has none. */
  ood: OodDetector | null;
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
  restoreModel: { summary: ModelSummary; imageSize: number; numClasses: number };
  predict: Predictions;
  evaluateModel: { test: TestResult; scores: KeptScores };
  describeModel: { model: ModelName; imageSize: number; summary: ModelSummary };
  /**
   * How the run ended; `test` is the evaluation (null when the run was superseded by new data), `model` the kept
   * model's files (no optimizer state) and `scores` what `evaluate` reports from, for the page to keep.
   */
  train: TrainingOutcome & {
    test: TestResult | null;
    model: ModelFiles | null;
    scores: KeptScores | null;
    /** The snapshot ensemble the run's model is (settings.snapshots > 1); absent or null for a single model. */
    ensemble?: EnsembleRun | null;
  };
  /** Whether a run was there to stop. */
  stop: { stopping: boolean };
  /** Whether a run was there to hold or release. */
  pause: { pausing: boolean };
  exportModel: ExportedModel;
  previewAugmentation: AugmentationPreview;
  evaluate: { report: EvaluationReport };
  adaptedReport: { report: EvaluationReport };
  shiftCheck: { check: ShiftCheckScores };
  /** `indices.length` grey images of `size` px, one byte a pixel, in the order asked. */
  evaluatedImages: { size: number; indices: Uint32Array; pixels: Uint8Array };
}

export type TrainerReply = { [K in TrainerRequestType]: { type: K } & TrainerReplies[K] }[TrainerRequestType];

/** What a training run reports while it goes. */
export type TrainProgress =
  | { type: 'backend'; name: string; requested: BackendChoice; note: string }
  /** classWeights: the loss weight of each class (null when weighting is off). */
  | {
      type: 'trainingStarted';
      epochs: number;
      batchesPerEpoch: number;
      totalBatches: number;
      classWeights: number[] | null;
      /**
       * A seed ensemble's members (worker/seedEnsemble.ts), trained one after another, member k in the run's epochs
       * [k * epochs / members, (k + 1) * epochs / members); absent: one model.
       */
      members?: number;
    }
  | ({ type: 'batchEnd' } & BatchMetrics)
  | ({ type: 'epochEnd' } & EpochMetrics)
  /** After epochEnd: the model and optimizer state after that epoch, for the page to keep (a reload, a crash, Resume). */
  | {
      type: 'checkpoint';
      epoch: number;
      files: ModelFiles;
      /** A snapshot-ensemble run's snapshots so far, when this epoch ended a cycle (model/snapshotFiles.ts). */
      snapshots?: ModelFiles;
    }
  /** Paused: the run holds after batch `batchesDone` (the one under way at Pause finished); nothing moves until Continue. */
  | { type: 'held'; batchesDone: number }
  | { type: 'evaluating' };

export type FromTrainer =
  | { type: 'progress'; id: number; progress: TrainProgress }
  | { type: 'reply'; id: number; reply: TrainerReply }
  /** Request `id` failed; the message is written for the person using the app. */
  | { type: 'error'; id: number; message: string };
