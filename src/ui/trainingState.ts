import type { EpochMetrics, FromTrainer, ModelSummary, TestResult, TrainingOutcome } from '../worker/protocol';
import { assertNever } from '../worker/protocol';

/** What the page knows of the training worker, built only from the messages it posts. */
export interface TrainingView {
  phase: 'idle' | 'starting' | 'training' | 'evaluating' | 'done' | 'stopped' | 'error';
  backend: { name: string; note: string } | null;
  modelSummary: { imageSize: number; summary: ModelSummary } | null;
  epochs: number;
  batchesPerEpoch: number;
  batchesDone: number;
  totalBatches: number;
  /** One point a training batch; x is in epochs (batchesDone / batchesPerEpoch). */
  batchPoints: { x: number; loss: number; accuracy: number }[];
  /** One point a finished epoch, with validation figures. */
  epochPoints: (EpochMetrics & { x: number })[];
  imagesPerSecond: number | null;
  /** Wall-clock (ms) of the first batch seen in this run and of the latest, for the ETA. */
  timing: { firstAt: number; firstDone: number; lastAt: number } | null;
  test: TestResult | null;
  epochsDone: number;
  /** The loss weight of each class in this run; null when weighting is off (or before the run starts). */
  classWeights: number[] | null;
  /** The epoch (0-based) with the lowest validation loss so far; null while there is none. */
  bestEpoch: number | null;
  /** How the run ended (early stopping, restored weights); null while it runs. */
  outcome: TrainingOutcome | null;
  stopRequested: boolean;
  error: string | null;
  /** Bumped by each exported model; the page zips and downloads it. */
  exportCount: number;
}

export const initialTrainingView: TrainingView = {
  phase: 'idle',
  backend: null,
  modelSummary: null,
  epochs: 0,
  batchesPerEpoch: 0,
  batchesDone: 0,
  totalBatches: 0,
  batchPoints: [],
  epochPoints: [],
  imagesPerSecond: null,
  timing: null,
  test: null,
  epochsDone: 0,
  classWeights: null,
  bestEpoch: null,
  outcome: null,
  stopRequested: false,
  error: null,
  exportCount: 0,
};

export type TrainingAction =
  | { type: 'message'; message: FromTrainer; at: number }
  | { type: 'trainRequested' }
  | { type: 'stopRequested' }
  | { type: 'workerFailed'; message: string }
  | { type: 'dismissError' }
  /** A new dataset: the previous run's figures no longer apply. */
  | { type: 'reset' };

export function trainingReducer(state: TrainingView, action: TrainingAction): TrainingView {
  switch (action.type) {
    case 'trainRequested':
      return {
        ...initialTrainingView,
        modelSummary: state.modelSummary,
        backend: state.backend,
        exportCount: state.exportCount,
        phase: 'starting',
      };
    case 'reset':
      return { ...initialTrainingView, modelSummary: state.modelSummary, backend: state.backend, exportCount: state.exportCount };
    case 'stopRequested':
      return { ...state, stopRequested: true };
    case 'workerFailed':
      return { ...state, phase: 'error', error: action.message };
    case 'dismissError':
      return { ...state, error: null, phase: state.phase === 'error' ? (state.test ? 'done' : 'idle') : state.phase };
    case 'message':
      return applyMessage(state, action.message, action.at);
    default:
      return assertNever(action);
  }
}

function applyMessage(state: TrainingView, message: FromTrainer, at: number): TrainingView {
  switch (message.type) {
    case 'dataReady':
      return state;
    case 'backend':
      return { ...state, backend: { name: message.name, note: message.note } };
    case 'modelSummary':
      return { ...state, modelSummary: { imageSize: message.imageSize, summary: message.summary } };
    case 'trainingStarted':
      return {
        ...state,
        phase: 'training',
        epochs: message.epochs,
        batchesPerEpoch: message.batchesPerEpoch,
        totalBatches: message.totalBatches,
        classWeights: message.classWeights,
      };
    case 'batchEnd': {
      const x = message.batchesDone / Math.max(1, state.batchesPerEpoch);
      const timing = state.timing
        ? { ...state.timing, lastAt: at }
        : { firstAt: at, firstDone: message.batchesDone, lastAt: at };
      return {
        ...state,
        phase: state.phase === 'starting' ? 'training' : state.phase,
        batchesDone: message.batchesDone,
        totalBatches: message.totalBatches,
        imagesPerSecond: message.imagesPerSecond,
        batchPoints: [...state.batchPoints, { x, loss: message.loss, accuracy: message.accuracy }],
        timing,
      };
    }
    case 'epochEnd': {
      const { type, ...metrics } = message;
      void type;
      // Validation is measured at the end of the epoch: x = epochs completed.
      return {
        ...state,
        epochPoints: [...state.epochPoints, { ...metrics, x: metrics.epoch + 1 }],
        epochsDone: metrics.epoch + 1,
        bestEpoch: metrics.bestEpoch >= 0 ? metrics.bestEpoch : null,
      };
    }
    case 'evaluating':
      return { ...state, phase: 'evaluating' };
    case 'testResult': {
      const { type, ...result } = message;
      void type;
      return { ...state, test: result };
    }
    case 'trainingEnded': {
      const { type, ...outcome } = message;
      void type;
      return {
        ...state,
        phase: message.reason === 'stopped' ? 'stopped' : 'done',
        epochsDone: message.epochsDone,
        bestEpoch: message.bestEpoch,
        outcome,
        stopRequested: false,
      };
    }
    case 'modelExported':
      return { ...state, exportCount: state.exportCount + 1 };
    case 'augmentationPreview':
      // Kept by the preview figure itself (useTrainer's subscribe): it is not part of a run.
      return state;
    case 'error':
      return {
        ...state,
        error: message.message,
        // A failed run ends; a failure outside a run (e.g. export) leaves the run's state as it was.
        phase: state.phase === 'starting' || state.phase === 'training' || state.phase === 'evaluating' ? 'error' : state.phase,
      };
    default:
      return assertNever(message);
  }
}

/** Seconds left, from the pace of the batches so far; null until two batches have been timed. */
export function etaSeconds(view: TrainingView): number | null {
  const t = view.timing;
  if (!t || view.batchesDone <= t.firstDone || t.lastAt <= t.firstAt) return null;
  const perBatchMs = (t.lastAt - t.firstAt) / (view.batchesDone - t.firstDone);
  return ((view.totalBatches - view.batchesDone) * perBatchMs) / 1000;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}
