/** The Trainer runs a whole training run: every batch and epoch reported, test evaluated, memory flat. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSet } from '../model/testImages.testutil';
import type { ImageSet } from '../core/types';
import { data, settings, setup, SIZE } from './trainerHarness.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer: a full run', () => {
  it('trains 2 epochs, reports every batch and epoch, evaluates on test, and keeps memory flat', async () => {
    const tensorsAtEpochEnd: number[] = [];
    const { ask, requested, progress, replies, errors, types, test } = setup({}, (m) => {
      if (m.type === 'progress' && m.progress.type === 'epochEnd') tensorsAtEpochEnd.push(tf.memory().numTensors);
    });
    await ask(data());
    expect(replies('setData')[0].counts).toEqual({ train: 48, validation: 16, test: 20 });
    await ask({ type: 'train', settings: settings({ backend: 'webgl' }) });

    expect(errors()).toEqual([]);
    expect(requested).toEqual(['webgl']);
    const sixBatches = Array<string>(6).fill('batchEnd');
    expect(types()).toEqual([
      'reply:setData',
      'backend',
      'trainingStarted',
      ...sixBatches,
      'epochEnd',
      'checkpoint',
      ...sixBatches,
      'epochEnd',
      'checkpoint',
      'evaluating',
      'reply:train',
    ]);
    expect(progress('backend')[0]).toEqual({ type: 'backend', name: 'wasm', requested: 'webgl', note: 'test backend' });
    expect(progress('trainingStarted')[0]).toEqual({
      type: 'trainingStarted',
      epochs: 2,
      batchesPerEpoch: 6,
      totalBatches: 12,
      classWeights: [1, 1],
    });

    const batches = progress('batchEnd');
    expect(batches).toHaveLength(12);
    expect(batches.map((b) => b.batchesDone)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(batches.map((b) => `${b.epoch}:${b.batch}`).slice(4, 8)).toEqual(['0:4', '0:5', '1:0', '1:1']);
    for (const b of batches) {
      expect(b.totalBatches).toBe(12);
      expect(Number.isFinite(b.loss)).toBe(true);
      expect(b.accuracy).toBeGreaterThanOrEqual(0);
      expect(b.accuracy).toBeLessThanOrEqual(1);
      expect(b.imagesPerSecond).toBeGreaterThan(0);
    }

    const epochs = progress('epochEnd');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    for (const e of epochs) {
      expect(e.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(e.valLoss)).toBe(true);
    }
    // The epoch's loss is the mean of its batches' losses (all batches are 8 images here).
    const meanLoss = batches.slice(0, 6).reduce((s, b) => s + b.loss, 0) / 6;
    expect(epochs[0].loss).toBeCloseTo(meanLoss, 6);

    expect(tensorsAtEpochEnd).toHaveLength(2);
    expect(tensorsAtEpochEnd[1]).toBe(tensorsAtEpochEnd[0]);

    const result = test();
    expect(result.numClasses).toBe(2);
    expect(result.scores).toBeInstanceOf(Float32Array);
    expect(result.scores).toHaveLength(20);
    expect(Array.from(result.labels)).toEqual(Array.from(data().splits.test?.labels ?? []));
    expect(result.accuracy).toBeGreaterThan(0.5);
    const ended = replies('train')[0];
    expect(ended).toMatchObject({ type: 'train', reason: 'completed', epochsDone: 2, restoredBest: true });
    // The best epoch is the one with the lowest validation loss, as each epochEnd said.
    const lowest = epochs[0].valLoss <= epochs[1].valLoss ? 0 : 1;
    expect(ended.bestEpoch).toBe(lowest);
    expect(epochs[1].bestEpoch).toBe(lowest);
    expect(result.gallery.size).toBe(SIZE);
    expect(result.gallery.pixels).toHaveLength(result.gallery.indices.length * SIZE * SIZE);
  });

  it('keeps the last partial batch and counts it', async () => {
    const { ask, progress, replies } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1, batchSize: 20 }) });
    expect(progress('trainingStarted')[0]).toMatchObject({ batchesPerEpoch: 3, totalBatches: 3 });
    expect(progress('batchEnd')).toHaveLength(3);
    expect(replies('train')[0]).toMatchObject({ reason: 'completed', epochsDone: 1 });
  });

  it('trains a softmax model for three classes and scores every class', async () => {
    const { ask, errors, test } = setup();
    await ask(data(3));
    await ask({ type: 'train', settings: settings({ epochs: 1, batchSize: 16 }) });
    expect(errors()).toEqual([]);
    const result = test();
    expect(result.numClasses).toBe(3);
    expect(result.scores).toHaveLength(20 * 3);
    for (let i = 0; i < 20; i++)
      expect(result.scores[3 * i] + result.scores[3 * i + 1] + result.scores[3 * i + 2]).toBeCloseTo(1, 4);
  });

  it('evaluates on validation when there is no test split', async () => {
    const { ask, replies, test } = setup();
    await ask(data(2, false));
    expect(replies('setData')[0].counts.test).toBe(0);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(test().scores).toHaveLength(16);
    expect(test().labels).toHaveLength(16);
  });

  it('frees the previous model when a new run starts', async () => {
    const { ask, replies } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    const afterFirst = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings({ epochs: 1, seed: 2 }) });
    expect(replies('train')).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(afterFirst);
  });
});

describe('synthetic images', () => {
  it('make class 1 brighter than class 0', () => {
    const set: ImageSet = syntheticSet(4, SIZE, 2, 5);
    const mean = (i: number) =>
      set.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE).reduce((a, b) => a + b, 0) / (SIZE * SIZE);
    expect(mean(1)).toBeGreaterThan(mean(0) + 30);
  });
});
