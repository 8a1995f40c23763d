import { describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../worker/protocol';
import {
  etaSeconds,
  initialTrainingView,
  trainingReducer,
  type TrainingAction,
  type TrainingView,
} from './trainingState';
import { formatDuration } from '../../core/formatUnits';

/** Progress at a time, or any other action. */
type Step = [TrainProgress, number] | TrainingAction;

function feed(steps: Step[], start: TrainingView = initialTrainingView): TrainingView {
  return steps.reduce(
    (s, step) => trainingReducer(s, Array.isArray(step) ? { type: 'progress', progress: step[0], at: step[1] } : step),
    start,
  );
}

const gallery = { indices: new Uint32Array(0), pixels: new Uint8Array(0), size: 32 };

const batch = (batchesDone: number, loss: number): TrainProgress => ({
  type: 'batchEnd',
  epoch: Math.floor((batchesDone - 1) / 4),
  batch: (batchesDone - 1) % 4,
  batchesDone,
  totalBatches: 8,
  loss,
  accuracy: 0.5,
  imagesPerSecond: 100,
});

describe('training view', () => {
  it('follows a run from start to test result', () => {
    let s = trainingReducer(initialTrainingView, { type: 'trainRequested' });
    expect(s.phase).toBe('starting');
    s = feed(
      [
        [{ type: 'backend', name: 'webgl', requested: 'auto', note: 'WebGL 2' }, 0],
        [{ type: 'trainingStarted', epochs: 2, batchesPerEpoch: 4, totalBatches: 8, classWeights: [1.5, 0.75] }, 0],
        [batch(1, 0.9), 1000],
        [batch(2, 0.8), 2000],
        [batch(3, 0.7), 3000],
      ],
      s,
    );
    expect(s.phase).toBe('training');
    expect(s.batchPoints.map((p) => p.x)).toEqual([0.25, 0.5, 0.75]);
    // 2 batches in 2 s after the first: 1 s a batch, 5 left.
    expect(etaSeconds(s)).toBeCloseTo(5);
    s = feed(
      [
        [batch(4, 0.6), 4000],
        [
          {
            type: 'epochEnd',
            epoch: 0,
            loss: 0.7,
            accuracy: 0.6,
            valLoss: 0.65,
            valAccuracy: 0.62,
            bestEpoch: 0,
            tensors: 30,
          },
          4100,
        ],
        [{ type: 'evaluating' }, 5000],
      ],
      s,
    );
    expect(s.epochPoints).toEqual([
      { epoch: 0, loss: 0.7, accuracy: 0.6, valLoss: 0.65, valAccuracy: 0.62, bestEpoch: 0, tensors: 30, x: 1 },
    ]);
    expect(s.bestEpoch).toBe(0);
    expect(s.classWeights).toEqual([1.5, 0.75]);
    expect(s.phase).toBe('evaluating');
    s = feed(
      [
        {
          type: 'trainEnded',
          reply: {
            reason: 'stopped',
            epochsDone: 1,
            bestEpoch: 0,
            restoredBest: true,
            test: {
              loss: 0.5,
              accuracy: 0.8,
              scores: new Float32Array([0.1, 0.9]),
              labels: new Uint8Array([0, 1]),
              numClasses: 2,
              gallery,
            },
            model: null,
            scores: null,
          },
        },
      ],
      s,
    );
    expect(s.phase).toBe('stopped');
    expect(s.test?.accuracy).toBe(0.8);
    expect(s.outcome).toEqual({ reason: 'stopped', epochsDone: 1, bestEpoch: 0, restoredBest: true });
  });

  it('keeps the model summary and backend across runs but clears curves', () => {
    const s = feed([
      {
        type: 'modelSummary',
        model: 'tutorial',
        imageSize: 150,
        summary: { layers: [], totalParams: 151969, trainableParams: 151969 },
      },
      [batch(1, 1), 0],
    ]);
    const next = trainingReducer(s, { type: 'trainRequested' });
    expect(next.modelSummary?.summary.totalParams).toBe(151969);
    expect(next.batchPoints).toEqual([]);
  });

  it('ends a run that failed in the error phase; another request that fails leaves the run as it is', () => {
    const running = feed([
      [{ type: 'trainingStarted', epochs: 1, batchesPerEpoch: 1, totalBatches: 1, classWeights: null }, 0],
    ]);
    expect(feed([{ type: 'runFailed', message: 'WebGL context lost' }], running).phase).toBe('error');
    const failedPreview = feed([{ type: 'requestFailed', message: 'preview failed' }], running);
    expect(failedPreview.phase).toBe('training');
    expect(failedPreview.error).toBe('preview failed');
    const done = feed(
      [
        {
          type: 'trainEnded',
          reply: {
            reason: 'completed',
            epochsDone: 1,
            bestEpoch: 0,
            restoredBest: true,
            test: null,
            model: null,
            scores: null,
          },
        },
      ],
      running,
    );
    const failedSummary = feed([{ type: 'requestFailed', message: 'summary failed' }], done);
    expect(failedSummary.phase).toBe('done');
    expect(failedSummary.error).toBe('summary failed');
  });

  it('follows the best epoch and ends early-stopped as done, clearing both on the next run', () => {
    const epoch = (e: number, valLoss: number, bestEpoch: number): [TrainProgress, number] => [
      { type: 'epochEnd', epoch: e, loss: 0.5, accuracy: 0.8, valLoss, valAccuracy: 0.8, bestEpoch, tensors: 40 },
      0,
    ];
    let s = feed([
      [{ type: 'trainingStarted', epochs: 10, batchesPerEpoch: 1, totalBatches: 10, classWeights: null }, 0],
      epoch(0, 0.5, 0),
      epoch(1, 0.4, 1),
      epoch(2, 0.45, 1),
    ]);
    expect(s.bestEpoch).toBe(1);
    s = feed(
      [
        {
          type: 'trainEnded',
          reply: {
            reason: 'early-stopped',
            epochsDone: 3,
            bestEpoch: 1,
            restoredBest: true,
            test: null,
            model: null,
            scores: null,
          },
        },
      ],
      s,
    );
    expect(s.phase).toBe('done');
    expect(s.outcome?.reason).toBe('early-stopped');
    const next = trainingReducer(s, { type: 'trainRequested' });
    expect(next.bestEpoch).toBeNull();
    expect(next.outcome).toBeNull();
    expect(next.classWeights).toBeNull();
  });

  it('is held once the worker says so, after the batch under way; Continue and a new Pause start over', () => {
    let s = feed([
      { type: 'trainRequested' },
      [{ type: 'trainingStarted', epochs: 2, batchesPerEpoch: 4, totalBatches: 8, classWeights: null }, 0],
      [batch(1, 0.9), 1000],
      { type: 'paused', paused: true },
    ]);
    expect([s.paused, s.held]).toEqual([true, false]);
    s = feed(
      [
        [batch(2, 0.8), 2000],
        [{ type: 'held', batchesDone: 2 }, 2001],
      ],
      s,
    );
    expect([s.paused, s.held, s.batchesDone]).toEqual([true, true, 2]);
    s = feed([{ type: 'paused', paused: false }], s);
    expect([s.paused, s.held]).toEqual([false, false]);
    // A late word from the worker after Continue changes nothing.
    expect(feed([[{ type: 'held', batchesDone: 2 }, 3000]], s).held).toBe(false);
  });

  it('formats durations', () => {
    expect(formatDuration(5.2)).toBe('5 s');
    expect(formatDuration(65)).toBe('1 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
  });
});
