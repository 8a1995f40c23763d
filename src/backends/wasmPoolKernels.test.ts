/**
 * The WASM max-pool kernels against tfjs' CPU backend (the reference): forward values and the gradient, ties, NaN
 * and -Infinity windows included, and why the shipped MaxPoolGrad is not a fallback.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from './backendCompare.testutil';
import { withWasmTrainingKernels, compare, format } from './wasmKernels.testutil';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './wasmKernels';

withWasmTrainingKernels();

type Arrays = Float32Array[];

interface PoolCase {
  name: string;
  shape: [number, number, number, number];
  filter: number | [number, number];
  stride: number | [number, number];
  pad: 'valid' | 'same';
  /** Values rounded to this many steps per unit: many ties. 0 = continuous. */
  quantize: number;
  special?: boolean;
}

const POOL_CASES: PoolCase[] = [
  { name: '2x2 valid, even, continuous', shape: [2, 8, 10, 3], filter: 2, stride: 2, pad: 'valid', quantize: 0 },
  { name: '2x2 valid, odd, continuous', shape: [3, 9, 7, 4], filter: 2, stride: 2, pad: 'valid', quantize: 0 },
  { name: '2x2 valid, even, ties', shape: [2, 10, 8, 5], filter: 2, stride: 2, pad: 'valid', quantize: 1 },
  { name: '2x2 valid, odd, ties', shape: [2, 11, 13, 32], filter: 2, stride: 2, pad: 'valid', quantize: 1 },
  {
    name: '2x2 valid, model size (149 -> 74), ties',
    shape: [2, 149, 149, 2],
    filter: 2,
    stride: 2,
    pad: 'valid',
    quantize: 2,
  },
  {
    name: '2x2 valid, NaN and -Infinity windows',
    shape: [1, 6, 6, 2],
    filter: 2,
    stride: 2,
    pad: 'valid',
    quantize: 1,
    special: true,
  },
  { name: '2x2 same, even (no padding)', shape: [2, 6, 8, 3], filter: 2, stride: 2, pad: 'same', quantize: 1 },
  { name: '3x3 stride 3 valid, ties', shape: [2, 10, 11, 3], filter: 3, stride: 3, pad: 'valid', quantize: 1 },
  { name: '2x2 same, odd (padded)', shape: [2, 7, 9, 3], filter: 2, stride: 2, pad: 'same', quantize: 1 },
  {
    name: '3x3 stride 2 overlapping, continuous',
    shape: [2, 9, 9, 2],
    filter: 3,
    stride: 2,
    pad: 'valid',
    quantize: 0,
  },
  { name: '3x3 stride 2 same, overlapping, ties', shape: [2, 8, 9, 3], filter: 3, stride: 2, pad: 'same', quantize: 1 },
  { name: '2x2 stride 1 overlapping, ties', shape: [1, 6, 5, 2], filter: 2, stride: 1, pad: 'valid', quantize: 1 },
];

describe('maxPool forward and gradient match the cpu backend, ties included', () => {
  for (const c of POOL_CASES) {
    it(c.name, async () => {
      const xv = values(tf.util.sizeFromShape(c.shape), 11, c.quantize);
      if (c.special) {
        // Window (0,0) of channel 0: NaN then the max; window (0,1): all -Infinity; (1,0): -Infinity and NaN.
        const at = (h: number, w: number, ch: number) => (h * c.shape[2] + w) * c.shape[3] + ch;
        xv[at(0, 0, 0)] = NaN;
        xv[at(1, 1, 0)] = 5;
        for (const [h, w] of [
          [0, 2],
          [0, 3],
          [1, 2],
          [1, 3],
        ])
          xv[at(h, w, 0)] = -Infinity;
        for (const [h, w] of [
          [2, 0],
          [2, 1],
          [3, 0],
        ])
          xv[at(h, w, 0)] = -Infinity;
        xv[at(3, 1, 0)] = NaN;
      }
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const y = tf.maxPool(x, c.filter, c.stride, c.pad);
          const r = tf.tensor(values(y.size, 12), y.shape);
          const dx = tf.grad((xx: tf.Tensor) =>
            tf
              .maxPool(xx as tf.Tensor4D, c.filter, c.stride, c.pad)
              .mul(r)
              .sum(),
          )(x);
          return [y, dx, r];
        });
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const dx = compare(actual[1], expected[1]);
      // Each window sends its whole gradient to exactly one element: nothing lost, nothing doubled.
      const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
      console.log(
        `maxPool ${c.name}: dx ${format(dx)}; sum dx ${sum(actual[1]).toFixed(4)} vs cpu ${sum(expected[1]).toFixed(4)} (dy ${sum(expected[2]).toFixed(4)})`,
      );
      if (!c.special) {
        expect(compare(actual[0], expected[0]).maxAbs).toBe(0);
        expect(sum(actual[1])).toBeCloseTo(sum(expected[2]), 4);
      }
      // The same element is chosen in every window: the same numbers (exactly where windows do not
      // overlap; overlapping ones may add up in another order).
      if (c.filter === c.stride) expect(dx.maxAbs).toBe(0);
      else expect(dx.rel).toBeLessThan(1e-6);
    });
  }
});

describe('the shipped WASM MaxPoolGrad (why it is not used as a fallback)', () => {
  it('drops the gradient of all-negative windows and picks the last of tied maxima', async () => {
    // Rows [-3, -1, 2, 1] and [-2, -4, 1, 2]: the left 2x2 window is all negative, the right one
    // has its maximum 2 twice (first and last element).
    const x = [-3, -1, 2, 1, -2, -4, 1, 2];
    const compute = (): tf.Tensor[] =>
      tf.tidy(() => [
        tf.grad((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid').sum())(tf.tensor4d(x, [1, 2, 4, 1])),
      ]);
    const expected = await on('cpu', compute);
    unregisterWasmTrainingKernels();
    let shipped: Arrays;
    try {
      shipped = await on('wasm', compute);
    } finally {
      registerWasmTrainingKernels();
    }
    const ours = await on('wasm', compute);
    console.log(
      `maxPool grad of [[-3,-1,2,1],[-2,-4,1,2]]: cpu [${Array.from(expected[0]).join(',')}], shipped wasm [${Array.from(shipped[0]).join(',')}], ours [${Array.from(ours[0]).join(',')}]`,
    );
    expect(Array.from(expected[0])).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(ours[0])).toEqual(Array.from(expected[0]));
  });
});
