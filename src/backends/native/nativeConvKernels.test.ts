/**
 * Our native stride-1 unpadded convolutions (csrc/conv2d.c, csrc/conv2d_filter_grad.c) against tfjs' cpu backend as shipped: forward values, the
 * input and filter gradients, and ConvBiasRelu (a convolution with its bias and ReLU as one kernel), whole and split.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convBiasRelu, hasConvBiasRelu } from '../../model/convBiasRelu';
import { nativeKernelsFor } from './nativeKernels';
import { on, values } from '../backendCompare.testutil';
import { describeWithPartners, withNativeKernels, relativeError } from './nativeKernels.testutil';

withNativeKernels();

/** tfjs' Conv2DBackpropFilter of a stride-1 unpadded NHWC convolution (not in tfjs' public ops). */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape },
    ) as tf.Tensor;
}

describeWithPartners((partners) => {
  describe('stride-1 unpadded convolutions and their input gradient match the cpu backend', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: '2×2, 32 to 32 channels, 3 images', x: [3, 9, 8, 32], filter: [2, 2, 32, 32] },
      {
        name: 'one input channel (the first layer: its one-pass forward path)',
        x: [4, 12, 11, 1],
        filter: [2, 2, 1, 32],
      },
      { name: 'one input channel, 13 outputs and a 3×2 filter', x: [3, 8, 9, 1], filter: [3, 2, 1, 13] },
      { name: 'three input channels (XNNPACK forward, ours for dx)', x: [2, 6, 7, 3], filter: [2, 2, 3, 8] },
      { name: 'odd channel counts and a 3×2 filter', x: [2, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'rows of fewer than four pixels', x: [2, 4, 3, 8], filter: [2, 2, 8, 16] },
    ];
    it.each(cases)('$name: conv, conv + bias + ReLU, and dx', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 63);
      const wv = values(tf.util.sizeFromShape(c.filter), 64);
      const bv = values(c.filter[3], 65);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, c.filter);
          const bias = tf.tensor1d(bv);
          const plain = tf.conv2d(x, w, 1, 'valid');
          const fused = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' });
          const linear = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias });
          const r = tf.tensor(values(plain.size, 66), plain.shape);
          const dx = tf.grad((xx: tf.Tensor) =>
            tf
              .conv2d(xx as tf.Tensor4D, w, 1, 'valid')
              .mul(r)
              .sum(),
          )(x);
          return [plain, fused, linear, dx];
        });
      const expected = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `convolution ${c.name}, ${partners} partners: conv ${errors[0].toExponential(1)}, +bias+ReLU ${errors[1].toExponential(1)}, +bias ${errors[2].toExponential(1)}, dx ${errors[3].toExponential(1)}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
    });

    it('give the right numbers whichever path runs, padded ones too', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([2, 5, 5, 4]) as tf.Tensor4D;
      const w = tf.ones([2, 2, 4, 8]) as tf.Tensor4D;
      const y = tf.conv2d(x, w, 1, 'valid');
      expect(Array.from(await y.data()).every((v) => v === 16)).toBe(true);
      const same = tf.conv2d(x, w, 1, 'same'); // padded: WASM's own kernel
      expect(same.shape).toEqual([2, 5, 5, 8]);
      tf.dispose([x, w, y, same]);
    });
  });

  describe('a convolution with its bias and ReLU as one kernel in training (ConvBiasRelu) matches the unfused chain on cpu', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: 'the first layer (one input channel), enough to split', x: [8, 33, 34, 1], filter: [2, 2, 1, 32] },
      { name: '32 to 64 channels', x: [4, 12, 11, 32], filter: [2, 2, 32, 64] },
      { name: 'odd channel counts', x: [3, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'three input channels (XNNPACK forward)', x: [2, 6, 7, 3], filter: [2, 2, 3, 8] },
    ];
    it.each(cases)('$name: output and the gradients of x, filter and bias', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 91, 8); // quantised, so that some outputs are exactly 0
      const wv = values(tf.util.sizeFromShape(c.filter), 92, 8);
      const bv = values(c.filter[3], 93);
      const compute = (fused: boolean) => (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, c.filter);
          const bias = tf.tensor1d(bv);
          const layer = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            fused
              ? convBiasRelu(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D)
              : tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'valid'), bb));
          const y = layer(x, w, bias);
          const r = tf.tensor(values(y.size, 94), y.shape);
          const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => layer(xx, ww, bb).mul(r).sum())([
            x,
            w,
            bias,
          ]);
          return [y, ...grads];
        });
      const expected = await on('cpu', compute(false));
      const before = tf.memory().numTensors;
      const actual = await on('wasm', compute(true));
      expect(tf.memory().numTensors).toBe(before);
      expect(expected[0].some((v) => v === 0) && expected[0].some((v) => v > 0)).toBe(true);
      const errors = actual.map((a, i) => relativeError(a, expected[i]));
      console.log(
        `ConvBiasRelu ${c.name}, ${partners} partners: y ${errors[0].toExponential(1)}, dx ${errors[1].toExponential(1)}, dw ${errors[2].toExponential(1)}, db ${errors[3].toExponential(1)}`,
      );
      for (const e of errors) expect(e).toBeLessThan(1e-5);
    });

    it('runs as ConvBiasRelu forward and ReluGradBias backward on wasm, with no Add, Relu or Sum; not on cpu', async () => {
      const kernelsOf = async (backend: string) => {
        await tf.setBackend(backend);
        expect(hasConvBiasRelu()).toBe(backend === 'wasm');
        const x = tf.ones([2, 9, 9, 4]) as tf.Tensor4D;
        const w = tf.ones([2, 2, 4, 8]) as tf.Tensor4D;
        const b = tf.zeros([8]) as tf.Tensor1D;
        const profile = await tf.profile(() =>
          tf.grads((ww: tf.Tensor, bb: tf.Tensor) => convBiasRelu(x, ww as tf.Tensor4D, bb as tf.Tensor1D).sum())([
            w,
            b,
          ]),
        );
        tf.dispose([x, w, b]);
        return profile.kernelNames;
      };
      const names = await kernelsOf('wasm');
      expect(names).toContain('ConvBiasRelu');
      expect(names).toContain('ReluGradBias');
      expect(names).toContain('Conv2DBackpropFilter');
      expect(names).not.toContain('Conv2DBackpropInput'); // x needs no gradient here
      for (const name of ['Add', 'Relu', 'ReluGrad', 'Conv2D']) expect(names).not.toContain(name);
    });
  });

  describe('the filter gradient of stride-1 unpadded convolutions matches the cpu backend', () => {
    const cases: { name: string; x: [number, number, number, number]; filter: [number, number, number, number] }[] = [
      { name: '2×2, 32 to 32 channels, 3 images', x: [3, 9, 8, 32], filter: [2, 2, 32, 32] },
      { name: 'one input channel (the first layer)', x: [4, 12, 11, 1], filter: [2, 2, 1, 32] },
      { name: 'odd channel counts and a 3×2 filter', x: [2, 7, 9, 6], filter: [3, 2, 6, 13] },
      { name: 'one image', x: [1, 6, 6, 8], filter: [2, 2, 8, 16] },
    ];
    it.each(cases)('$name', async (c) => {
      const xv = values(tf.util.sizeFromShape(c.x), 61);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const dyShape: [number, number, number, number] = [
            c.x[0],
            c.x[1] - c.filter[0] + 1,
            c.x[2] - c.filter[1] + 1,
            c.filter[3],
          ];
          const dy = tf.tensor4d(values(tf.util.sizeFromShape(dyShape), 62), dyShape);
          return [filterGradient(x, dy, c.filter)];
        });
      const [expected] = await on('cpu', compute);
      const before = tf.memory().numTensors;
      const [actual] = await on('wasm', compute);
      expect(tf.memory().numTensors).toBe(before);
      const error = relativeError(actual, expected);
      console.log(`filter gradient ${c.name}, ${partners} partners: rel ${error.toExponential(1)}`);
      expect(error).toBeLessThan(1e-5);
    });

    it('goes through the native kernel', async () => {
      await tf.setBackend('wasm');
      const x = tf.ones([2, 5, 5, 4]) as tf.Tensor4D;
      const dy = tf.ones([2, 4, 4, 8]) as tf.Tensor4D;
      const dw = filterGradient(x, dy, [2, 2, 4, 8]);
      expect(Array.from(await dw.data()).every((v) => v === 32)).toBe(true); // 2 images × 16 positions
      tf.dispose([x, dy, dw]);
    });

    it('counts the chunks partners did', () => {
      const counts = nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)!.chunkCounts();
      if (partners === 0) expect(counts).toEqual({ chunks: 0, byHelpers: 0 });
      else {
        expect(counts.byHelpers).toBeGreaterThan(0);
        expect(counts.byHelpers).toBeLessThan(counts.chunks);
      }
    });
  });
});
