import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastCpuKernels, unregisterFastCpuKernels } from './cpuKernels';
import { mulberry32 } from '../core/random';

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'valid' | 'same';
}

const cases: Case[] = [
  { name: '2x2 valid, as in the CNN', x: [3, 9, 9, 4], filter: [2, 2, 4, 5], strides: 1, pad: 'valid' },
  { name: '3x3 same, stride 2', x: [2, 8, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { name: 'one input channel', x: [2, 6, 6, 1], filter: [2, 2, 1, 3], strides: 1, pad: 'valid' },
];

function randomTensor(shape: number[], seed: number, zeroShare = 0): tf.Tensor {
  const random = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  // Ties (e.g. zeros after ReLU) decide which pixel a max-pool gradient goes to: include some.
  const values = Float32Array.from({ length: size }, () => (random() < zeroShare ? 0 : random() * 2 - 1));
  return tf.tensor(values, shape);
}

/** Gradients of conv + max-pool wrt input and filter, on whatever kernels are registered now. */
function gradients(c: Case, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const x = randomTensor(c.x, seed, 0.3) as tf.Tensor4D;
    const w = randomTensor(c.filter, seed + 1) as tf.Tensor4D;
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf
        .maxPool(tf.relu(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad)), [2, 2], 2, 'valid')
        .square()
        .sum();
    const [dx, dw] = tf.grads(f)([x, w]);
    const poolOnly = tf.grad((xx: tf.Tensor) =>
      tf
        .maxPool(xx as tf.Tensor4D, [3, 3], 1, 'same')
        .mul(2)
        .sum(),
    )(x);
    return [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array, poolOnly.dataSync() as Float32Array];
  });
}

describe('fast cpu kernels', () => {
  const shippedResults = new Map<string, Float32Array[]>();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    unregisterFastCpuKernels(); // nodeTests.setup.ts registered them
    for (const c of cases) shippedResults.set(c.name, gradients(c, 11));
    registerFastCpuKernels();
    registerFastCpuKernels(); // twice is harmless
  });

  it.each(cases)('give the shipped kernels’ gradients: $name', (c) => {
    const fast = gradients(c, 11);
    const shipped = shippedResults.get(c.name) as Float32Array[];
    for (let i = 0; i < fast.length; i++) {
      expect(fast[i].length).toBe(shipped[i].length);
      for (let j = 0; j < fast[i].length; j++) expect(fast[i][j]).toBeCloseTo(shipped[i][j], 5);
    }
  });

  it('are the registered cpu kernels and leak no tensors', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc.name).toBe('conv2dBackpropFilter');
    expect(tf.getKernel('MaxPoolGrad', 'cpu')?.kernelFunc.name).toBe('maxPoolGrad');
    const before = tf.memory().numTensors;
    gradients(cases[0], 3);
    expect(tf.memory().numTensors).toBe(before);
  });
});
