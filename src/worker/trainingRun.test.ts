import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTutorialCnn, disposeCnn } from '../model/cnn';
import { syntheticSet } from '../model/testImages.testutil';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import { evaluateInBatches } from './evaluate';
import type { TrainProgress } from './protocol';
import type { TrainSettings } from '../core/types';
import { FRESH_START, runClassWeights, trainEpochs, type RunContext } from './trainingRun';

// Validation losses are scripted, so early stopping is tested on a known sequence.
vi.mock('./evaluate', () => ({ evaluateInBatches: vi.fn() }));

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  vi.mocked(evaluateInBatches).mockReset();
});

function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    model: 'tutorial',
    imageSize: SIZE,
    epochs: 8,
    batchSize: 16,
    learningRate: 1e-3,
    learningRateSchedule: 'constant',
    intensityNormalisation: 'none',
    backend: 'cpu',
    seed: 1,
    classWeighting: 'balanced',
    patience: 2,
    augmentation: { ...NO_AUGMENTATION },
    ...NO_RECIPE,
    ...overrides,
  };
}

/** A run of trainEpochs on 16 training images (one batch an epoch), validation losses taken from `losses`. */
function run(
  losses: number[],
  overrides: Partial<TrainSettings> = {},
  onMessage?: (m: TrainProgress, model: tf.LayersModel) => void,
) {
  let epoch = 0;
  vi.mocked(evaluateInBatches).mockImplementation(async () => ({
    loss: losses[epoch++] ?? 1,
    accuracy: 0.5,
    scores: new Float32Array(0),
  }));
  const model = buildTutorialCnn({ imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1 });
  const messages: TrainProgress[] = [];
  const context: RunContext = {
    model,
    data: {
      classNames: ['NORMAL', 'PNEUMONIA'],
      train: syntheticSet(16, SIZE, 2, 1),
      validation: syntheticSet(4, SIZE, 2, 2),
      test: null,
    },
    settings: settings(overrides),
    start: FRESH_START,
    control: { stopRequested: false, superseded: false, contextLost: false },
    progress: (m) => {
      messages.push(m);
      onMessage?.(m, model);
    },
    now: () => performance.now(),
  };
  return { model, messages, promise: trainEpochs(context) };
}

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe('early stopping', () => {
  it('stops after `patience` epochs without a new low, restores the best weights, and keeps memory flat', async () => {
    const snapshots = new Map<number, number[][]>();
    const tensorsAtEpochEnd: number[] = [];
    const { model, messages, promise } = run([0.6, 0.5, 0.55, 0.52, 0.4], { patience: 2 }, (m, live) => {
      if (m.type !== 'epochEnd') return;
      snapshots.set(m.epoch, weightsOf(live));
      tensorsAtEpochEnd.push(tf.memory().numTensors);
    });
    const outcome = await promise;
    expect(outcome).toEqual({ reason: 'early-stopped', epochsDone: 4, bestEpoch: 1, restoredBest: true });
    const epochs = messages.filter((m) => m.type === 'epochEnd');
    expect(epochs.map((e) => e.bestEpoch)).toEqual([0, 1, 1, 1]);
    expect(weightsOf(model)).toEqual(snapshots.get(1));
    expect(weightsOf(model)).not.toEqual(snapshots.get(3));
    // One copy of the weights at a time: the count does not grow from epoch to epoch…
    expect(new Set(tensorsAtEpochEnd).size).toBe(1);
    // …and the copy is freed when the run ends.
    expect(tf.memory().numTensors).toBe(tensorsAtEpochEnd[0] - model.getWeights().length);
    disposeCnn(model);
  });

  it('runs every epoch when validation keeps improving, and never counts a NaN loss as the best', async () => {
    const { model, promise } = run([0.6, NaN, 0.5, 0.45], { epochs: 4, patience: 2 });
    expect(await promise).toEqual({ reason: 'completed', epochsDone: 4, bestEpoch: 3, restoredBest: true });
    disposeCnn(model);
  });

  it('with patience 0 trains every epoch and keeps the last weights', async () => {
    const before = tf.memory().numTensors;
    let last: number[][] = [];
    const { model, promise } = run([0.3, 0.5, 0.6], { epochs: 3, patience: 0 }, (m, live) => {
      if (m.type === 'epochEnd') last = weightsOf(live);
    });
    expect(await promise).toEqual({ reason: 'completed', epochsDone: 3, bestEpoch: 0, restoredBest: false });
    expect(weightsOf(model)).toEqual(last);
    disposeCnn(model);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('class weights of a run', () => {
  it('are balanced from the train labels, or all 1', () => {
    const train = { size: 1, count: 4, pixels: new Uint8Array(4), labels: Uint8Array.from([0, 1, 1, 1]) };
    expect(runClassWeights(settings(), train, 2)).toEqual([2, 2 / 3]);
    expect(runClassWeights(settings({ classWeighting: 'none' }), train, 2)).toEqual([1, 1]);
    expect(runClassWeights(settings(), train, 3)).toEqual([4 / 3, 4 / 9, 0]);
  });

  it('are announced when training starts', async () => {
    const { model, messages, promise } = run([0.5], { epochs: 1 });
    await promise;
    expect(messages[0]).toMatchObject({ type: 'trainingStarted', classWeights: [1, 1] });
    disposeCnn(model);
  });
});

describe('learning-rate schedule', () => {
  it('cosine: each batch steps at the schedule’s rate for its place in the run; the set rate is back at the end', async () => {
    const rates: number[] = [];
    // 16 images, batch 8: two batches an epoch, 3 epochs, 6 steps; the rate is read as each batch ends.
    const { model, promise } = run(
      [0.6, 0.5, 0.4],
      { epochs: 3, batchSize: 8, patience: 0, learningRateSchedule: 'cosine', learningRate: 0.01 },
      (m, live) => {
        if (m.type === 'batchEnd') rates.push((live.optimizer as unknown as { learningRate: number }).learningRate);
      },
    );
    await promise;
    expect(rates).toHaveLength(6);
    rates.forEach((rate, step) => expect(rate).toBeCloseTo((0.01 * (1 + Math.cos((Math.PI * step) / 6))) / 2, 12));
    expect((model.optimizer as unknown as { learningRate: number }).learningRate).toBe(0.01);
    disposeCnn(model);
  });

  it('constant: every step at the set rate', async () => {
    const rates: number[] = [];
    const { model, promise } = run(
      [0.6, 0.5],
      { epochs: 2, batchSize: 8, patience: 0, learningRate: 1e-3 },
      (m, live) => {
        if (m.type === 'batchEnd') rates.push((live.optimizer as unknown as { learningRate: number }).learningRate);
      },
    );
    await promise;
    expect(rates).toEqual([1e-3, 1e-3, 1e-3, 1e-3]);
    disposeCnn(model);
  });
});
