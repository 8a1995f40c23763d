/** The acquisition changes of augment.ts: contrast, gamma, blur and noise. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACQUISITION_DRAWS_PER_IMAGE,
  NO_AUGMENTATION,
  acquisitionParams,
  acquisitionRandom,
  augmentBatch,
  augmentationRandom,
  isAugmenting,
} from './augment';
import { gaussianKernel } from './gaussianBlur';
import type { AugmentationSettings } from '../core/types';
import { MIDDLE, sequence } from './augment.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The geometric draws all "no change". */
const NO_GEOMETRY = () => sequence(MIDDLE);

function augment(values: number[], shape: number[], settings: Partial<AugmentationSettings>, draws: () => number) {
  const xs = tf.tensor4d(values, shape as [number, number, number, number]);
  const out = augmentBatch(xs, { ...NO_AUGMENTATION, ...settings }, NO_GEOMETRY(), draws);
  try {
    return Array.from(out.dataSync());
  } finally {
    out.dispose();
    xs.dispose();
  }
}

const RAMP = [0.2, 0.4, 0.6, 0.8];

describe('acquisition augmentation', () => {
  it('draws the same count of numbers whatever is on, each in its range', () => {
    let calls = 0;
    const counting = (r: () => number) => () => (calls++, r());
    acquisitionParams(NO_AUGMENTATION, counting(Math.random));
    expect(calls).toBe(ACQUISITION_DRAWS_PER_IMAGE);
    const settings = { ...NO_AUGMENTATION, contrast: 0.3, gamma: 0.5, blur: 1, noise: 0.05 };
    const random = acquisitionRandom(7);
    for (let i = 0; i < 200; i++) {
      const p = acquisitionParams(settings, counting(random));
      expect(p.contrast).toBeGreaterThanOrEqual(0.7);
      expect(p.contrast).toBeLessThanOrEqual(1.3);
      expect(p.gamma).toBeGreaterThanOrEqual(1 / 1.5 - 1e-12);
      expect(p.gamma).toBeLessThanOrEqual(1.5 + 1e-12);
      expect(p.blurWeight).toBeGreaterThanOrEqual(0);
      expect(p.blurWeight).toBeLessThanOrEqual(1);
      expect(p.noise).toBeGreaterThanOrEqual(0);
      expect(p.noise).toBeLessThanOrEqual(0.05);
    }
    expect(calls).toBe(201 * ACQUISITION_DRAWS_PER_IMAGE);
    expect(acquisitionParams(NO_AUGMENTATION, () => 0.7)).toMatchObject({
      contrast: 1,
      gamma: 1,
      blurWeight: 0,
      noise: 0,
    });
    expect(isAugmenting({ ...NO_AUGMENTATION, gamma: 0.1 })).toBe(true);
  });

  it('scales the spread about the image mean by the contrast factor, clipped to 0..1', () => {
    // Draw 1: the top of the range, 1 + 0.5.
    const out = augment(RAMP, [1, 2, 2, 1], { contrast: 0.5 }, sequence([1, 0.5, 0, 0, 0]));
    out.forEach((v, i) => expect(v).toBeCloseTo([0.05, 0.35, 0.65, 0.95][i], 6));
    const flat = augment(RAMP, [1, 2, 2, 1], { contrast: 0.9 }, sequence([0, 0.5, 0, 0, 0]));
    flat.forEach((v) => expect(v).toBeCloseTo(0.5, 1));
    const clipped = augment([0, 0, 1, 1], [1, 2, 2, 1], { contrast: 0.9 }, sequence([1, 0.5, 0, 0, 0]));
    expect(clipped).toEqual([0, 0, 1, 1]);
  });

  it('raises pixel values to the drawn power, from 1/(1+gamma) to 1+gamma', () => {
    const up = augment(RAMP, [1, 2, 2, 1], { gamma: 1 }, sequence([0.5, 1, 0, 0, 0]));
    up.forEach((v, i) => expect(v).toBeCloseTo(RAMP[i] ** 2, 6));
    const down = augment(RAMP, [1, 2, 2, 1], { gamma: 1 }, sequence([0.5, 0, 0, 0, 0]));
    down.forEach((v, i) => expect(v).toBeCloseTo(Math.sqrt(RAMP[i]), 6));
  });

  it('mixes in a Gaussian blur that keeps the mean, with mirrored edges', () => {
    expect(gaussianKernel(1)).toHaveLength(7);
    expect(gaussianKernel(1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    const size = 9;
    const dot = Array.from({ length: size * size }, (_, i) => (i === 4 * size + 4 ? 1 : 0));
    // Weight 1: the blur itself; the dot's light spreads and its total stays.
    const blurred = augment(dot, [1, size, size, 1], { blur: 1 }, sequence([0.5, 0.5, 1, 0, 0]));
    expect(blurred.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(blurred[4 * size + 4]).toBeCloseTo(gaussianKernel(1)[3] ** 2, 5);
    expect(blurred[4 * size + 5]).toBeCloseTo(gaussianKernel(1)[3] * gaussianKernel(1)[4], 5);
    // Weight 0: the image as it was. A flat image stays flat to the edge (no dark border).
    expect(augment(dot, [1, size, size, 1], { blur: 1 }, sequence([0.5, 0.5, 0, 0, 0]))).toEqual(dot);
    const flat = augment(new Array(size * size).fill(0.6), [1, size, size, 1], { blur: 2 }, sequence([0.5, 0.5, 1]));
    flat.forEach((v) => expect(v).toBeCloseTo(0.6, 5));
  });

  it('adds Gaussian noise of the drawn standard deviation, the same for the same seed', () => {
    const size = 32;
    const grey = new Array(2 * size * size).fill(0.5);
    const settings = { noise: 0.1 };
    // Image 1: sd 0.1 (draw 1), image 2: sd 0 (draw 0).
    const draws = () => sequence([0.5, 0.5, 0, 1, 0.25, 0.5, 0.5, 0, 0, 0.75]);
    const out = augment(grey, [2, size, size, 1], settings, draws());
    const first = out.slice(0, size * size);
    const mean = first.reduce((a, b) => a + b, 0) / first.length;
    const sd = Math.sqrt(first.reduce((a, b) => a + (b - mean) ** 2, 0) / first.length);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(sd).toBeGreaterThan(0.08);
    expect(sd).toBeLessThan(0.12);
    expect(out.slice(size * size)).toEqual(new Array(size * size).fill(0.5));
    expect(augment(grey, [2, size, size, 1], settings, draws())).toEqual(out);
  });

  it('leaves the geometric draws alone, repeats with the seed, leaks nothing, and agrees on wasm', async () => {
    const values = Float32Array.from({ length: 3 * 12 * 12 }, (_, i) => ((i * 7919) % 101) / 100);
    const all = { ...NO_AUGMENTATION, rotation: 10, contrast: 0.3, gamma: 0.3, blur: 1, noise: 0.05 };
    const once = () => {
      const xs = tf.tensor4d(values, [3, 12, 12, 1]);
      const before = tf.memory().numTensors;
      const out = augmentBatch(xs, all, augmentationRandom(3), acquisitionRandom(3));
      expect(tf.memory().numTensors).toBe(before + 1);
      const data = Array.from(out.dataSync());
      out.dispose();
      xs.dispose();
      return data;
    };
    const cpu = once();
    expect(once()).toEqual(cpu);
    expect(Math.min(...cpu)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...cpu)).toBeLessThanOrEqual(1);
    // The geometric stream is not touched by the acquisition draws.
    const geometric = augmentationRandom(3);
    augmentBatch(tf.tensor4d(values, [3, 12, 12, 1]), all, geometric, acquisitionRandom(3)).dispose();
    const alone = augmentationRandom(3);
    for (let i = 0; i < 3 * 8; i++) alone();
    expect(geometric()).toBe(alone());
    try {
      await tf.setBackend('wasm');
      const wasm = once();
      expect(Math.max(...wasm.map((v, i) => Math.abs(v - cpu[i])))).toBeLessThan(1e-4);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
