import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeBatch, makeBatch } from './batches';
import type { ImageSet } from '../core/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Three 2x2 images whose pixels are easy to recognise: image i holds i*10, i*10+1, … */
function tinySet(): ImageSet {
  const pixels = Uint8Array.from([0, 1, 2, 255, 10, 11, 12, 13, 20, 21, 22, 23]);
  return { size: 2, count: 3, pixels, labels: Uint8Array.from([1, 0, 2]) };
}

describe('makeBatch', () => {
  it('gathers the chosen images, in the given order, scaled to [0, 1]', () => {
    const batch = makeBatch(tinySet(), [2, 0], 3);
    expect(batch.xs.shape).toEqual([2, 2, 2, 1]);
    expect(batch.xs.dtype).toBe('float32');
    const values = Array.from(batch.xs.dataSync());
    const expected = [20, 21, 22, 23, 0, 1, 2, 255].map((v) => v / 255);
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect(values[7]).toBeCloseTo(1, 6);
    disposeBatch(batch);
  });

  it('gives binary labels as a [n, 1] column', () => {
    const set = { ...tinySet(), labels: Uint8Array.from([1, 0, 1]) };
    const batch = makeBatch(set, Int32Array.from([0, 1, 2]), 2);
    expect(batch.ys.shape).toEqual([3, 1]);
    expect(batch.ys.dtype).toBe('float32');
    expect(Array.from(batch.ys.dataSync())).toEqual([1, 0, 1]);
    disposeBatch(batch);
  });

  it('gives one-hot labels for more than two classes', () => {
    const batch = makeBatch(tinySet(), [0, 1, 2], 3);
    expect(batch.ys.shape).toEqual([3, 3]);
    expect(batch.ys.dtype).toBe('float32');
    expect(batch.ys.arraySync()).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    disposeBatch(batch);
  });

  it('keeps only the two batch tensors alive', () => {
    const before = tf.memory().numTensors;
    const batch = makeBatch(tinySet(), [1], 3);
    expect(tf.memory().numTensors).toBe(before + 2);
    disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects indices outside the split and labels beyond the classes', () => {
    const before = tf.memory().numTensors;
    expect(() => makeBatch(tinySet(), [3], 3)).toThrow(/outside this split/);
    expect(() => makeBatch(tinySet(), [-1], 3)).toThrow(/outside this split/);
    expect(() => makeBatch(tinySet(), [2], 2)).toThrow(/only 2 classes/);
    expect(() => makeBatch(tinySet(), [], 3)).toThrow(/at least one image/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not change the split it reads from', () => {
    const set = tinySet();
    const copy = set.pixels.slice();
    disposeBatch(makeBatch(set, [0, 1, 2], 3));
    expect(set.pixels).toEqual(copy);
  });
});
