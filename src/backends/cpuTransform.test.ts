/**
 * The cpu backend's Transform (tf.image.transform), as this app registers it, against the wasm
 * backend's (native) kernel and against the shipped cpu kernel on the one image that one gets right.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerFastCpuKernels, unregisterFastCpuKernels } from './cpuKernels';
import { mulberry32 } from '../core/random';

const SHAPE: [number, number, number, number] = [3, 7, 9, 2];
const MODES = ['constant', 'reflect', 'wrap', 'nearest'] as const;
const INTERPOLATIONS = ['nearest', 'bilinear'] as const;

function inputs(seed: number): { image: Float32Array; transforms: Float32Array } {
  const random = mulberry32(seed);
  const image = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b, 1) }, () => random());
  const transforms = new Float32Array(SHAPE[0] * 8);
  for (let b = 0; b < SHAPE[0]; b++) {
    // Rotation, zoom and a shift that reads well outside the image, with a slight projective part.
    const angle = (random() - 0.5) * 2;
    const zoom = 0.7 + random() * 0.8;
    transforms.set(
      [
        Math.cos(angle) * zoom,
        -Math.sin(angle) * zoom,
        (random() - 0.5) * 12,
        Math.sin(angle) * zoom,
        Math.cos(angle) * zoom,
        (random() - 0.5) * 10,
        (random() - 0.5) * 0.02,
        (random() - 0.5) * 0.02,
      ],
      b * 8,
    );
  }
  return { image, transforms };
}

async function transformOn(
  backend: string,
  seed: number,
  interpolation: (typeof INTERPOLATIONS)[number],
  fillMode: (typeof MODES)[number],
): Promise<Float32Array> {
  await tf.setBackend(backend);
  const { image, transforms } = inputs(seed);
  const out = tf.tidy(() =>
    tf.image.transform(
      tf.tensor4d(image, SHAPE),
      tf.tensor2d(transforms, [SHAPE[0], 8]),
      interpolation,
      fillMode,
      0.25,
      [8, 6],
    ),
  );
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('cpu Transform', () => {
  it('matches the shipped kernel on the first image, which is all that one transforms', async () => {
    unregisterFastCpuKernels(); // nodeTests.setup.ts registered them
    const shipped = await transformOn('cpu', 1, 'bilinear', 'reflect');
    registerFastCpuKernels();
    const ours = await transformOn('cpu', 1, 'bilinear', 'reflect');
    const image = 8 * 6 * SHAPE[3];
    expect(maxDifference(ours.subarray(0, image), shipped.subarray(0, image))).toBe(0);
    // The shipped kernel leaves the other images at the fill value.
    expect(new Set(shipped.subarray(image))).toEqual(new Set([0.25]));
    expect(new Set(ours.subarray(image)).size).toBeGreaterThan(10);
  });

  it("reflects as TensorFlow does, [dcba|abcd|dcba], also far outside (where tfjs-backend-wasm 4.22's 'reflect' goes wrong)", async () => {
    registerFastCpuKernels();
    await tf.setBackend('cpu');
    const out = tf.tidy(() =>
      tf.image.transform(
        tf.tensor4d([0, 1, 2, 3], [1, 1, 4, 1]),
        tf.tensor2d([[1, 0, -8, 0, 1, 0, 0, 0]]),
        'nearest',
        'reflect',
        0,
        [1, 20],
      ),
    );
    expect(Array.from(await out.data())).toEqual([0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3]);
    out.dispose();
  });

  for (const interpolation of INTERPOLATIONS) {
    // Not 'reflect': the wasm kernel maps coordinates far left of the image wrongly (see above).
    for (const fillMode of MODES.filter((mode) => mode !== 'reflect')) {
      it(`matches the wasm backend for every image: ${interpolation}, fill ${fillMode}`, async () => {
        registerFastCpuKernels();
        const cpu = await transformOn('cpu', 7, interpolation, fillMode);
        const wasm = await transformOn('wasm', 7, interpolation, fillMode);
        expect(maxDifference(cpu, wasm)).toBeLessThan(1e-5);
      });
    }
  }
});
