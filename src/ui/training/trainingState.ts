import { assertNever } from '../../core/assertNever';
import type { EpochMetrics, ModelName, ModelSummary, TestResult, TrainingOutcome } from '../../core/types';
import type { TrainerReplies, TrainProgress } from '../../worker/protocol';

/** What the page knows of the training worker, built only from the replies and progress of its requests. */
export interface TrainingView {
  phase: 'idle' | 'starting' | 'training' | 'evaluating' | 'done' | 'stopped' | 'error';
  backend: { name: string; note: string } | null;
  modelSummary: { model: ModelName; imageSize: number; summary: ModelSummary } | null;
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
  /** A seed ensemble's members, trained one after another in equal spans of the run's epochs; 1: one model. */
  members: number;
  /** The epoch (0-based) with the lowest validation loss so far; null while there is none. */
  bestEpoch: number | null;
  /** How the run ended (early stopping, restored weights); null while it runs. */
  outcome: TrainingOutcome | null;
  stopRequested: boolean;
  /** The run is held between batches (Pause) until Continue. */
  paused: boolean;
  /** Paused, and the worker has said the run holds (the batch under way at Pause has finished). */
  held: boolean;
  error: string | null;
  /** Whether the worker holds a model to predict, evaluate and download with (trained, restored or loaded). */
  hasModel: boolean;
  /** Changes whenever the worker's model does (answers of an older model are not this one's). */
  modelVersion: number;
  /** Whether the worker holds the loaded dataset (a crashed worker lost it: Resume and Evaluate need it again). */
  dataReady: boolean;
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
  members: 1,
  bestEpoch: null,
  outcome: null,
  stopRequested: false,
  paused: false,
  held: false,
  error: null,
  hasModel: false,
  modelVersion: 0,
  dataReady: false,
};

/** What a saved run brings back of the view. */
export type RestoredView = Pick<
  TrainingView,
  | 'epochs'
  | 'batchesPerEpoch'
  | 'batchPoints'
  | 'epochPoints'
  | 'test'
  | 'epochsDone'
  | 'classWeights'
  | 'bestEpoch'
  | 'outcome'
>;

/** The part of a view a saved run keeps. */
export function restorableOf(view: TrainingView): RestoredView {
  const { epochs, batchesPerEpoch, batchPoints, epochPoints, test, epochsDone, classWeights, bestEpoch, outcome } =
    view;
  return { epochs, batchesPerEpoch, batchPoints, epochPoints, test, epochsDone, classWeights, bestEpoch, outcome };
}

export type TrainingAction =
  /** Progress of the current run. */
  | { type: 'progress'; progress: TrainProgress; at: number }
  /** The current run's reply: how it ended, and its evaluation. */
  | { type: 'trainEnded'; reply: TrainerReplies['train'] }
  /** The current run failed: the run ends with this message. */
  | { type: 'runFailed'; message: string }
  /** A saved run (a reload, or one opened from the list) or a loaded model: its history and results, as they were. */
  | { type: 'restored'; view: RestoredView | null }
  /** Another dataset: results on the old one no longer apply; the model and its history stay (Resume, Predict). */
  | { type: 'datasetChanged' }
  /** The worker has the dataset (true), or lost it with its model when it died (false). */
  | { type: 'workerData'; ready: boolean }
  /** Resume: the current history stays, and the run's new epochs follow it. */
  | { type: 'resumeRequested' }
  /** A restored or loaded model was scored on the loaded dataset, without training. */
  | { type: 'evaluated'; test: TestResult }
  /** Another request failed (a summary, the dataset hand-over): said, and the run goes on. */
  | { type: 'requestFailed'; message: string }
  | { type: 'modelSummary'; model: ModelName; imageSize: number; summary: ModelSummary }
  | { type: 'trainRequested' }
  | { type: 'stopRequested' }
  | { type: 'paused'; paused: boolean }
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
        phase: 'starting',
        modelVersion: state.modelVersion + 1,
        dataReady: state.dataReady,
      };
    case 'workerData':
      return action.ready
        ? { ...state, dataReady: true }
        : { ...state, dataReady: false, hasModel: false, modelVersion: state.modelVersion + 1 };
    case 'datasetChanged':
      return {
        ...state,
        test: null,
        phase: state.phase === 'error' ? 'error' : state.hasModel ? 'stopped' : 'idle',
      };
    case 'restored': {
      const base = {
        ...initialTrainingView,
        modelSummary: state.modelSummary,
        backend: state.backend,
        hasModel: true,
        modelVersion: state.modelVersion + 1,
        dataReady: state.dataReady,
      };
      if (!action.view) return { ...base, phase: 'stopped' };
      return {
        ...base,
        ...action.view,
        batchesDone: action.view.epochsDone * action.view.batchesPerEpoch,
        totalBatches: action.view.epochs * action.view.batchesPerEpoch,
        phase: action.view.test ? 'done' : 'stopped',
      };
    }
    case 'evaluated':
      return { ...state, test: action.test, phase: 'done', error: null };
    case 'resumeRequested': {
      // Batches past the last finished epoch were not kept (the checkpoint is at an epoch's end): their points go.
      const end = state.epochsDone;
      return {
        ...state,
        phase: 'starting',
        hasModel: false,
        modelVersion: state.modelVersion + 1,
        batchPoints: state.batchPoints.filter((p) => p.x <= end + 1e-9),
        batchesDone: end * state.batchesPerEpoch,
        test: null,
        outcome: null,
        error: null,
        stopRequested: false,
        timing: null,
      };
    }
    case 'reset':
      return {
        ...initialTrainingView,
        modelSummary: state.modelSummary,
        backend: state.backend,
        dataReady: state.dataReady,
      };
    case 'stopRequested':
      return { ...state, stopRequested: true, paused: false };
    case 'paused':
      // The time paused is not training time: the time left is measured again from the next batch.
      return { ...state, paused: action.paused, held: false, timing: action.paused ? state.timing : null };
    case 'dismissError':
      return { ...state, error: null, phase: state.phase === 'error' ? (state.test ? 'done' : 'idle') : state.phase };
    case 'progress':
      return applyProgress(state, action.progress, action.at);
    case 'trainEnded': {
      const { test, reason, epochsDone, bestEpoch, restoredBest } = action.reply;
      const outcome = { reason, epochsDone, bestEpoch, restoredBest };
      return {
        ...state,
        test,
        phase: outcome.reason === 'stopped' ? 'stopped' : 'done',
        hasModel: action.reply.model !== null,
        paused: false,
        modelVersion: state.modelVersion + 1,
        epochsDone: outcome.epochsDone,
        bestEpoch: outcome.bestEpoch,
        outcome,
        stopRequested: false,
      };
    }
    case 'runFailed':
      return { ...state, phase: 'error', error: action.message, stopRequested: false, paused: false, hasModel: false };
    case 'requestFailed':
      return { ...state, error: action.message };
    case 'modelSummary':
      return { ...state, modelSummary: { model: action.model, imageSize: action.imageSize, summary: action.summary } };
    default:
      return assertNever(action);
  }
}

function applyProgress(state: TrainingView, message: TrainProgress, at: number): TrainingView {
  switch (message.type) {
    case 'backend':
      return { ...state, backend: { name: message.name, note: message.note } };
    case 'trainingStarted':
      return {
        ...state,
        phase: 'training',
        epochs: message.epochs,
        batchesPerEpoch: message.batchesPerEpoch,
        totalBatches: message.totalBatches,
        classWeights: message.classWeights,
        members: message.members ?? 1,
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
    case 'checkpoint':
      // Kept by the store for saving, not shown.
      return state;
    case 'held':
      return state.paused ? { ...state, held: true, batchesDone: message.batchesDone } : state;
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
