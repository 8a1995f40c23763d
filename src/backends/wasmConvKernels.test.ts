/**
 * The WASM convolution kernels against tfjs' CPU backend (the reference): forward values and both gradients of
 * conv2d (plain and fused with bias and ReLU) over the model's shapes and the odd ones, and the naive filter gradient.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from './backendCompare.testutil';
import { withWasmTrainingKernels, compare, format, dataIds, REL_TOLERANCE } from './wasmKernels.testutil';
import { registerNaiveWasmFilterGradient, registerWasmTrainingKernels } from './wasmKernels';

withWasmTrainingKernels();

interface ConvCase {
  name: string;
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: number | [number, number];
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  fused?: boolean;
}

const CONV_CASES: ConvCase[] = [
  // The model's four blocks (at 32 px): 2x2, stride 1, 'valid'.
  {
    name: 'model block 1 (ci 1)',
    batch: 3,
    height: 32,
    width: 32,
    inChannels: 1,
    outChannels: 32,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
  },
  {
    name: 'model block 2',
    batch: 3,
    height: 15,
    width: 15,
    inChannels: 32,
    outChannels: 32,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
  },
  {
    name: 'model block 3',
    batch: 2,
    height: 7,
    width: 7,
    inChannels: 32,
    outChannels: 64,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
  },
  {
    name: 'model block 4 (3x3 in, 2x2 out)',
    batch: 2,
    height: 3,
    width: 3,
    inChannels: 64,
    outChannels: 32,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
  },
  {
    name: 'odd non-square, ci 1',
    batch: 2,
    height: 11,
    width: 8,
    inChannels: 1,
    outChannels: 5,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
  },
  {
    name: 'same, stride 1',
    batch: 2,
    height: 9,
    width: 10,
    inChannels: 3,
    outChannels: 4,
    kernel: [2, 2],
    stride: 1,
    pad: 'same',
  },
  {
    name: 'same, 3x3, ci 1',
    batch: 2,
    height: 7,
    width: 7,
    inChannels: 1,
    outChannels: 6,
    kernel: [3, 3],
    stride: 1,
    pad: 'same',
  },
  {
    name: 'valid, stride 2, odd',
    batch: 2,
    height: 9,
    width: 11,
    inChannels: 3,
    outChannels: 4,
    kernel: [2, 2],
    stride: 2,
    pad: 'valid',
  },
  {
    name: 'same, stride 2, 3x3',
    batch: 2,
    height: 10,
    width: 9,
    inChannels: 5,
    outChannels: 3,
    kernel: [3, 3],
    stride: 2,
    pad: 'same',
  },
  {
    name: 'same, stride 2, 1x1 kernel',
    batch: 2,
    height: 8,
    width: 8,
    inChannels: 4,
    outChannels: 2,
    kernel: [1, 1],
    stride: 2,
    pad: 'same',
  },
  {
    name: 'explicit pad wider than the filter (dx: shipped kernel)',
    batch: 2,
    height: 5,
    width: 6,
    inChannels: 3,
    outChannels: 2,
    kernel: [2, 2],
    stride: 1,
    pad: [
      [0, 0],
      [2, 0],
      [0, 3],
      [0, 0],
    ],
  },
  {
    name: 'stride [1, 2], 3x2 kernel',
    batch: 2,
    height: 8,
    width: 9,
    inChannels: 2,
    outChannels: 3,
    kernel: [3, 2],
    stride: [1, 2],
    pad: 'valid',
  },
  {
    name: 'numeric pad 1',
    batch: 2,
    height: 6,
    width: 7,
    inChannels: 3,
    outChannels: 2,
    kernel: [3, 3],
    stride: 1,
    pad: 1,
  },
  {
    name: 'explicit asymmetric pad',
    batch: 2,
    height: 6,
    width: 5,
    inChannels: 2,
    outChannels: 3,
    kernel: [2, 3],
    stride: 1,
    pad: [
      [0, 0],
      [1, 0],
      [0, 2],
      [0, 0],
    ],
  },
  {
    name: 'fused bias + relu (as layers may use)',
    batch: 3,
    height: 9,
    width: 9,
    inChannels: 4,
    outChannels: 8,
    kernel: [2, 2],
    stride: 1,
    pad: 'valid',
    fused: true,
  },
];

describe('conv2d forward and gradients match the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(c.name, async () => {
      const xShape: [number, number, number, number] = [c.batch, c.height, c.width, c.inChannels];
      const wShape: [number, number, number, number] = [c.kernel[0], c.kernel[1], c.inChannels, c.outChannels];
      const xv = values(tf.util.sizeFromShape(xShape), 1);
      const wv = values(tf.util.sizeFromShape(wShape), 2);
      const bv = values(c.outChannels, 3);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, xShape);
          const w = tf.tensor4d(wv, wShape);
          const b = tf.tensor1d(bv);
          const conv = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D): tf.Tensor4D =>
            c.fused
              ? tf.fused.conv2d({ x: xx, filter: ww, strides: c.stride, pad: c.pad, bias: bb, activation: 'relu' })
              : tf.add(tf.conv2d(xx, ww, c.stride, c.pad), bb);
          const y = conv(x, w, b);
          // A random output gradient (not ones), through a fixed weighting of the outputs.
          const r = tf.tensor(values(y.size, 4), y.shape);
          const [dx, dw, db] = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            conv(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D)
              .mul(r)
              .sum(),
          )([x, w, b]);
          return [y, dx, dw, db];
        });
      const expected = await on('cpu', compute);
      await tf.setBackend('wasm');
      const tensorsBefore = tf.memory().numTensors;
      const idsBefore = dataIds();
      const actual = await on('wasm', compute);
      await tf.setBackend('wasm');
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(dataIds()).toBe(idsBefore);
      const labels = ['forward', 'dx', 'dW', 'db'];
      const results = labels.map((label, i) => [label, compare(actual[i], expected[i])] as const);
      console.log(`conv ${c.name}: ${results.map(([l, r]) => `${l} ${format(r)}`).join('; ')}`);
      for (const [label, r] of results) expect(r.rel, label).toBeLessThan(REL_TOLERANCE);
    });
  }

  it('Conv2DBackpropFilter with NCHW data', async () => {
    const x = values(2 * 3 * 7 * 6, 5);
    const dy = values(2 * 4 * 6 * 5, 6);
    const compute = (): tf.Tensor[] => [
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, [2, 3, 7, 6]), dy: tf.tensor4d(dy, [2, 4, 6, 5]) }, {
          strides: 1,
          pad: 'valid',
          dataFormat: 'NCHW',
          filterShape: [2, 2, 3, 4],
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    ];
    const expected = await on('cpu', () => tf.tidy(compute));
    const actual = await on('wasm', () => tf.tidy(compute));
    const r = compare(actual[0], expected[0]);
    console.log(`conv NCHW filter gradient: ${format(r)}`);
    expect(r.rel).toBeLessThan(REL_TOLERANCE);
  });

  it('the naive filter gradient (benchmark baseline) agrees too', async () => {
    const compute = (): tf.Tensor[] =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 9 * 8 * 3, 7), [2, 9, 8, 3]);
        const w = tf.tensor4d(values(2 * 2 * 3 * 4, 8), [2, 2, 3, 4]);
        return [
          tf.grad((ww: tf.Tensor) =>
            tf
              .conv2d(x, ww as tf.Tensor4D, 1, 'valid')
              .square()
              .sum(),
          )(w),
        ];
      });
    const expected = await on('cpu', compute);
    registerNaiveWasmFilterGradient();
    try {
      const actual = await on('wasm', compute);
      const r = compare(actual[0], expected[0]);
      console.log(`conv naive filter gradient: ${format(r)}`);
      expect(r.rel).toBeLessThan(REL_TOLERANCE);
    } finally {
      registerWasmTrainingKernels();
    }
  });
});
