import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DRAWS_PER_IMAGE,
  NO_AUGMENTATION,
  affineMatrix,
  augmentBatch,
  augmentationRandom,
  checkAugmentation,
  drawParams,
  isAugmenting,
} from './augment';
import type { AugmentationSettings } from '../core/types';
import { MIDDLE, sequence } from './augment.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** n images of size x size, all black but for one white pixel at (x, y). */
function dots(n: number, size: number, x: number, y: number): tf.Tensor4D {
  const values = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) values[i * size * size + y * size + x] = 1;
  return tf.tensor4d(values, [n, size, size, 1]);
}

/** Where the brightest pixel of image `i` is. */
function brightest(values: Float32Array, size: number, i: number): { x: number; y: number; value: number } {
  let best = 0;
  for (let p = 1; p < size * size; p++) if (values[i * size * size + p] > values[i * size * size + best]) best = p;
  return { x: best % size, y: Math.floor(best / size), value: values[i * size * size + best] };
}

function run(xs: tf.Tensor4D, settings: Partial<AugmentationSettings>, random: () => number): Float32Array {
  const out = augmentBatch(xs, { ...NO_AUGMENTATION, ...settings }, random);
  try {
    expect(out.shape).toEqual(xs.shape);
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
    xs.dispose();
  }
}

describe('augmentBatch', () => {
  it('gives the input back exactly when nothing is on, or every draw is "no change"', () => {
    const values = Float32Array.from({ length: 3 * 7 * 7 }, (_, i) => ((i * 37) % 101) / 100);
    const off = run(tf.tensor4d(values, [3, 7, 7, 1]), {}, Math.random);
    expect(off).toEqual(values);
    // Every change on, each draw in the middle of its range: the identity matrix, factor 1.
    const all = {
      ...NO_AUGMENTATION,
      rotation: 30,
      zoom: 0.2,
      shift: 0.2,
      shear: 10,
      brightness: 0.3,
      horizontalFlip: true,
    };
    expect(run(tf.tensor4d(values, [3, 7, 7, 1]), all, sequence(MIDDLE))).toEqual(values);
  });

  it('shifts content right and down by the drawn fraction of the size', () => {
    // shift 0.25 of 8 px: a draw of 1 is +2 px, a draw of 0.25 is -1 px.
    const random = sequence([0.5, 1, 0.25, 0.5, 0.5, 0.5, 0.9, 0.5]);
    const out = run(dots(2, 8, 2, 3), { shift: 0.25 }, random);
    for (const i of [0, 1]) expect(brightest(out, 8, i)).toEqual({ x: 4, y: 2, value: 1 });
    expect(out.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('rotates counter-clockwise about the centre', () => {
    // rotation 90 with a draw of 1: +90 degrees; the pixel right of the centre goes above it.
    const out = run(dots(1, 5, 4, 2), { rotation: 90 }, sequence([1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.5]));
    const top = brightest(out, 5, 0);
    expect([top.x, top.y]).toEqual([2, 0]);
    expect(top.value).toBeCloseTo(1, 5);
    // A draw of 0 turns the other way: right of centre goes below it.
    const back = brightest(
      run(dots(1, 5, 4, 2), { rotation: 90 }, sequence([0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.5])),
      5,
      0,
    );
    expect([back.x, back.y]).toEqual([2, 4]);
  });

  it('mirrors left-right when the flip draw says so, only if flipping is on', () => {
    const flipDraw = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.5];
    expect(
      brightest(
        run(dots(1, 6, 1, 4), { horizontalFlip: true, contrast: 0, gamma: 0, blur: 0, noise: 0 }, sequence(flipDraw)),
        6,
        0,
      ),
    ).toEqual({
      x: 4,
      y: 4,
      value: 1,
    });
    expect(
      brightest(
        run(dots(1, 6, 1, 4), { horizontalFlip: true, contrast: 0, gamma: 0, blur: 0, noise: 0 }, sequence(MIDDLE)),
        6,
        0,
      ),
    ).toEqual({
      x: 1,
      y: 4,
      value: 1,
    });
    expect(brightest(run(dots(1, 6, 1, 4), { rotation: 0.0001 }, sequence(flipDraw)), 6, 0)).toMatchObject({
      x: 1,
      y: 4,
    });
  });

  it('zooms about the centre (Keras: a factor above 1 shows more, smaller)', () => {
    // 9 px, centre 4; zoom 0.5 with draws of 1: factor 1.5 on both axes. A pixel 3 px right of the centre is read at the output 2 px right.
    const out = run(dots(1, 9, 7, 4), { zoom: 0.5 }, sequence([0.5, 0.5, 0.5, 0.5, 1, 1, 0.9, 0.5]));
    expect(brightest(out, 9, 0)).toMatchObject({ x: 6, y: 4 });
  });

  it('scales brightness by the drawn factor and clips to 0..1', () => {
    const values = Float32Array.from([0.2, 0.4, 0.8, 1]);
    const brighter = run(
      tf.tensor4d(values, [1, 2, 2, 1]),
      { brightness: 0.5 },
      sequence([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 1]),
    );
    expect(Array.from(brighter)).toEqual([0.2 * 1.5, 0.4 * 1.5, 1, 1].map(Math.fround));
    const darker = run(
      tf.tensor4d(values, [1, 2, 2, 1]),
      { brightness: 0.5 },
      sequence([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0]),
    );
    expect(Array.from(darker)).toEqual([0.1, 0.2, 0.4, 0.5].map(Math.fround));
  });

  it('keeps shape and the 0..1 range, changes every image of the batch its own way, and repeats with the seed', () => {
    const settings = {
      ...NO_AUGMENTATION,
      rotation: 20,
      zoom: 0.2,
      shift: 0.1,
      shear: 10,
      brightness: 0.3,
      horizontalFlip: true,
    };
    const make = () => {
      const values = new Float32Array(4 * 16 * 16);
      // The same image four times: any difference in the output comes from the draws.
      for (let i = 0; i < values.length; i++) values[i] = (((i % 256) * 7919) % 97) / 96;
      return tf.tensor4d(values, [4, 16, 16, 1]);
    };
    const a = run(make(), settings, augmentationRandom(5));
    const b = run(make(), settings, augmentationRandom(5));
    const c = run(make(), settings, augmentationRandom(6));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    const images = [0, 1, 2, 3].map((i) => a.slice(i * 256, (i + 1) * 256));
    for (let i = 1; i < 4; i++) {
      expect(images[i]).not.toEqual(images[0]);
      // Not the fill value: the cpu backend's shipped Transform left every image but the first blank.
      expect(images[i].reduce((s, v) => s + v, 0)).toBeGreaterThan(10);
    }
  });

  it('gives the same images on the wasm backend as on cpu', async () => {
    const settings = {
      ...NO_AUGMENTATION,
      rotation: 25,
      zoom: 0.3,
      shift: 0.2,
      shear: 15,
      brightness: 0.4,
      horizontalFlip: true,
    };
    const values = Float32Array.from({ length: 5 * 12 * 12 }, (_, i) => ((i * 7919) % 101) / 100);
    const on = async (backend: string) => {
      await tf.setBackend(backend);
      return run(tf.tensor4d(values, [5, 12, 12, 1]), settings, augmentationRandom(3));
    };
    try {
      const cpu = await on('cpu');
      const wasm = await on('wasm');
      expect(Math.max(...cpu.map((v, i) => Math.abs(v - wasm[i])))).toBeLessThan(1e-5);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('leaks no tensors and leaves its input alone', () => {
    const xs = tf.tensor4d(
      Float32Array.from({ length: 2 * 8 * 8 }, (_, i) => (i % 10) / 10),
      [2, 8, 8, 1],
    );
    const before = tf.memory().numTensors;
    for (const settings of [
      NO_AUGMENTATION,
      { ...NO_AUGMENTATION, rotation: 10, brightness: 0.2 },
      { ...NO_AUGMENTATION, brightness: 0.2 },
    ]) {
      const out = augmentBatch(xs, settings, augmentationRandom(1));
      expect(tf.memory().numTensors).toBe(before + 1);
      out.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(xs.isDisposed).toBe(false);
    xs.dispose();
  });
});

describe('drawParams and affineMatrix', () => {
  it('draws the same count of numbers whatever is on', () => {
    let calls = 0;
    const counting = () => (calls++, 0.3);
    drawParams(NO_AUGMENTATION, 10, 10, counting);
    expect(calls).toBe(DRAWS_PER_IMAGE);
    drawParams(
      { ...NO_AUGMENTATION, rotation: 5, zoom: 0.1, shift: 0.1, shear: 5, brightness: 0.1, horizontalFlip: true },
      10,
      10,
      counting,
    );
    expect(calls).toBe(2 * DRAWS_PER_IMAGE);
  });

  it('is the identity for no change', () => {
    const params = drawParams(NO_AUGMENTATION, 12, 9, Math.random);
    expect(affineMatrix(params, 12, 9).map((v) => v + 0)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
  });
});

describe('settings helpers', () => {
  it('knows when anything is on and checks ranges', () => {
    expect(isAugmenting(NO_AUGMENTATION)).toBe(false);
    expect(isAugmenting({ ...NO_AUGMENTATION, horizontalFlip: true })).toBe(true);
    expect(isAugmenting({ ...NO_AUGMENTATION, brightness: 0.1 })).toBe(true);
    expect(checkAugmentation({ ...NO_AUGMENTATION, rotation: 30 })).toBeNull();
    expect(checkAugmentation({ ...NO_AUGMENTATION, zoom: 1 })).toMatch(/Zoom must be between 0 and 0.9/);
    expect(checkAugmentation({ ...NO_AUGMENTATION, shift: -0.1 })).toMatch(/Shift/);
  });
});
