import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { TrainSettings } from '../core/types';
import { buildTutorialCnn, disposeCnn } from '../model/cnn';
import { syntheticSet } from '../model/testImages.testutil';
import type { TrainProgress } from './protocol';
import { FRESH_START, trainEpochs, type RunContext } from './trainingRun';
import { BatchReadback, defersReadback, type StartedBatch } from './trainSteps';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const started = (batch: number): StartedBatch => ({
  batch,
  images: 1,
  started: 0,
  figures: Promise.resolve({ loss: batch, accuracy: 0 }),
});

describe('BatchReadback', () => {
  it('hands each batch back at once, or (deferred) when the next has started; drain gives the last', () => {
    const now = new BatchReadback(false);
    expect(now.next(started(0))?.batch).toBe(0);
    expect(now.drain()).toBeNull();
    const deferred = new BatchReadback(true);
    expect(deferred.next(started(0))).toBeNull();
    expect(deferred.next(started(1))?.batch).toBe(0);
    expect(deferred.drain()?.batch).toBe(1);
    expect(deferred.drain()).toBeNull();
  });

  it('defers on the GPU backends only', () => {
    expect(['webgpu', 'webgl', 'wasm', 'cpu'].map(defersReadback)).toEqual([true, true, false, false]);
  });
});

/** Two epochs of 3 batches (20 images, batch 8), with or without deferred figures; `onMessage` may stop the run. */
async function run(
  deferReadback: boolean,
  onMessage?: (m: TrainProgress, context: RunContext) => void,
  recipe: Partial<TrainSettings> = NO_RECIPE,
) {
  const settings: TrainSettings = {
    model: 'tutorial',
    imageSize: SIZE,
    epochs: 2,
    batchSize: 8,
    learningRate: 1e-3,
    learningRateSchedule: 'cosine',
    intensityNormalisation: 'none',
    backend: 'cpu',
    seed: 3,
    classWeighting: 'balanced',
    patience: 0,
    augmentation: { ...NO_AUGMENTATION, rotation: 10 },
    ...NO_RECIPE,
    ...recipe,
  };
  // Dropout seeded: the two runs draw the same masks.
  const model = buildTutorialCnn({ imageSize: SIZE, numClasses: 2, learningRate: 1e-3, seed: 1, dropoutSeed: 7 });
  const messages: TrainProgress[] = [];
  const context: RunContext = {
    model,
    data: {
      classNames: ['NORMAL', 'PNEUMONIA'],
      train: syntheticSet(20, SIZE, 2, 1),
      validation: syntheticSet(4, SIZE, 2, 2),
      test: null,
    },
    settings,
    start: FRESH_START,
    control: { stopRequested: false, superseded: false, contextLost: false },
    progress: (m) => {
      messages.push(m);
      onMessage?.(m, context);
    },
    now: () => 0,
    deferReadback,
  };
  const outcome = await trainEpochs(context);
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  disposeCnn(model);
  const figures = messages.flatMap((m) =>
    m.type === 'batchEnd' || m.type === 'epochEnd' ? [{ ...m, imagesPerSecond: 0 }] : [],
  );
  return { outcome, weights, figures };
}

describe('deferred readback in a run', () => {
  it("reports the very figures (every batch's, the last too) and weights of reading each step at once", async () => {
    const before = tf.memory().numTensors;
    const deferred = await run(true);
    expect(tf.memory().numTensors).toBe(before);
    const direct = await run(false);
    expect(deferred.figures.filter((m) => m.type === 'batchEnd')).toHaveLength(6);
    expect(deferred.figures).toEqual(direct.figures);
    expect(deferred.weights).toEqual(direct.weights);
    expect(deferred.outcome).toEqual(direct.outcome);
  });

  it('a stop reports the step already queued, then ends (a partial epoch is no epoch)', async () => {
    const { figures, outcome } = await run(true, (m, context) => {
      if (m.type === 'batchEnd' && m.batch === 0) context.control.stopRequested = true;
    });
    // Batch 1 was queued before batch 0's figures came: it ran, so it is reported; batch 2 never starts.
    expect(figures.map((m) => (m.type === 'batchEnd' ? m.batch : m.type))).toEqual([0, 1]);
    expect(outcome.epochsDone).toBe(0);
  });
});

describe('training-recipe variants in a run', () => {
  it('train with label smoothing, mixup and weight decay, repeat with the seed, and leak nothing', async () => {
    const recipe = { labelSmoothing: 0.1, mixup: 0.4, weightDecay: 5 };
    const before = tf.memory().numTensors;
    const a = await run(false, undefined, recipe);
    expect(tf.memory().numTensors).toBe(before);
    const b = await run(true, undefined, recipe);
    const plain = await run(false);
    expect(a.figures.filter((m) => m.type === 'batchEnd').every((m) => Number.isFinite(m.loss))).toBe(true);
    expect(b.weights).toEqual(a.weights);
    expect(a.weights).not.toEqual(plain.weights);
    // Each on its own changes the run too.
    for (const one of [{ labelSmoothing: 0.1 }, { mixup: 0.4 }, { weightDecay: 5 }])
      expect((await run(false, undefined, one)).weights).not.toEqual(plain.weights);
  });
});
