import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMING_DRAWS_PER_IMAGE,
  NO_AUGMENTATION,
  affineMatrix,
  augmentBatch,
  drawParams,
  framingParams,
  framingRandom,
} from './augment';
import { MIDDLE, sequence } from './augment.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** One image of size x size, black but for a white pixel at (x, y). */
function dot(size: number, x: number, y: number): tf.Tensor4D {
  const values = new Float32Array(size * size);
  values[y * size + x] = 1;
  return tf.tensor4d(values, [1, size, size, 1]);
}

function brightestAt(out: tf.Tensor4D): { x: number; y: number } {
  const size = out.shape[2];
  const values = out.dataSync();
  let best = 0;
  for (let p = 1; p < values.length; p++) if (values[p] > values[best]) best = p;
  return { x: best % size, y: Math.floor(best / size) };
}

const CROP = { ...NO_AUGMENTATION, crop: 0.5 };

describe('framingParams', () => {
  it('draws the same count of numbers whether crop is on or off, cropped or not', () => {
    for (const settings of [NO_AUGMENTATION, CROP])
      for (const first of [0.1, 0.9]) {
        let calls = 0;
        framingParams(settings, 9, 9, () => (calls++ === 0 ? first : 0.3));
        expect(calls).toBe(FRAMING_DRAWS_PER_IMAGE);
      }
  });

  it('keeps the whole frame when crop is off or the first draw says so (half the images)', () => {
    const whole = { scale: 1, offsetX: 0, offsetY: 0 };
    expect(framingParams(NO_AUGMENTATION, 9, 9, sequence([0.1, 1, 1, 1]))).toEqual(whole);
    expect(framingParams(CROP, 9, 9, sequence([0.5, 1, 1, 1]))).toEqual(whole);
    expect(framingParams(CROP, 9, 9, sequence([0.49, 1, 0.5, 0.5]))).toEqual({ scale: 0.5, offsetX: 0, offsetY: 0 });
  });

  it('keeps the window inside the image, wherever it is drawn', () => {
    const random = framingRandom(7);
    for (let i = 0; i < 200; i++) {
      const framing = framingParams({ ...NO_AUGMENTATION, crop: 0.6 }, 20, 12, random);
      expect(framing.scale).toBeGreaterThanOrEqual(0.4);
      expect(framing.scale).toBeLessThanOrEqual(1);
      const m = affineMatrix(drawParams(NO_AUGMENTATION, 20, 12, Math.random), 20, 12, framing);
      for (const [x, y] of [
        [0, 0],
        [19, 0],
        [0, 11],
        [19, 11],
      ]) {
        const inX = m[0] * x + m[1] * y + m[2];
        const inY = m[3] * x + m[4] * y + m[5];
        expect(inX).toBeGreaterThanOrEqual(-1e-9);
        expect(inX).toBeLessThanOrEqual(19 + 1e-9);
        expect(inY).toBeGreaterThanOrEqual(-1e-9);
        expect(inY).toBeLessThanOrEqual(11 + 1e-9);
      }
    }
  });
});

describe('augmentBatch with crop', () => {
  it('scales the window back to the full size: a window of half the side doubles distances from its centre', () => {
    // 9 px, centre 4; the window is 4.5 px wide about the centre: a pixel 2 px right of the centre lands 4 px right.
    const out = augmentBatch(dot(9, 6, 4), CROP, sequence(MIDDLE), sequence([0.5]), sequence([0.1, 1, 0.5, 0.5]));
    expect(brightestAt(out)).toEqual({ x: 8, y: 4 });
    out.dispose();
  });

  it('moves the window by its drawn offset: a window centred on the pixel brings it to the centre', () => {
    // Offset draws of 1 and 0: the window's centre 2 px right of and 2 px above the image's (half of 0.5 x 8).
    const out = augmentBatch(dot(9, 6, 2), CROP, sequence(MIDDLE), sequence([0.5]), sequence([0.1, 1, 1, 0]));
    expect(brightestAt(out)).toEqual({ x: 4, y: 4 });
    out.dispose();
  });

  it('is applied before the other geometric changes, in one map', () => {
    const params = { ...drawParams(NO_AUGMENTATION, 9, 9, Math.random), rotation: 30, zoomX: 1.1, shiftX: 1 };
    const framing = { scale: 0.7, offsetX: 0.5, offsetY: -0.25 };
    const m = affineMatrix(params, 9, 9, framing);
    const keras = affineMatrix(params, 9, 9);
    // Keras' map first, then the window's: s (q - c) + c + o.
    for (const [x, y] of [
      [0, 0],
      [8, 3],
      [2, 7],
    ]) {
      const qx = keras[0] * x + keras[1] * y + keras[2];
      const qy = keras[3] * x + keras[4] * y + keras[5];
      expect(m[0] * x + m[1] * y + m[2]).toBeCloseTo(0.7 * (qx - 4) + 4 + 0.5, 10);
      expect(m[3] * x + m[4] * y + m[5]).toBeCloseTo(0.7 * (qy - 4) + 4 - 0.25, 10);
    }
  });

  it("draws from its own stream: turning crop on leaves every other change's draws as they were", () => {
    const values = Float32Array.from({ length: 2 * 8 * 8 }, (_, i) => ((i * 29) % 97) / 96);
    const settings = { ...NO_AUGMENTATION, rotation: 10, contrast: 0.3, noise: 0.05 };
    const augment = (crop: number, framing: () => number) => {
      const xs = tf.tensor4d(values, [2, 8, 8, 1]);
      const out = augmentBatch(xs, { ...settings, crop }, framingRandom(1), framingRandom(2), framing);
      const data = out.dataSync();
      tf.dispose([xs, out]);
      return data;
    };
    // The framing draws say "whole frame" for both images: the same images as with crop off.
    expect(augment(0.4, sequence([0.9, 0.5, 0.5, 0.5]))).toEqual(augment(0, sequence([0.1])));
    expect(augment(0.4, sequence([0.1, 1, 0.5, 0.5]))).not.toEqual(augment(0, sequence([0.1])));
  });
});
