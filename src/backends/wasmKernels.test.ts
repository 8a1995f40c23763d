/**
 * The WASM training kernels against tfjs' CPU backend (the reference): forward values and every
 * gradient of convolutions and max pooling, reductions, and whole training steps of the CNN.
 * Runs in Node, where tfjs-backend-wasm loads its single-threaded SIMD binary from node_modules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { on, values } from './backendCompare.testutil';
import { MODEL_NAMES, buildModel, type ModelName } from '../model/models';
import '@tensorflow/tfjs-backend-wasm';
import {
  WASM_TRAINING_KERNEL_NAMES,
  registerNaiveWasmFilterGradient,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  wasmTrainingKernelsState,
} from './wasmKernels';
import { unregisterFastCpuKernels } from './cpuKernels';

/** Max |wasm − cpu| over max |cpu| (errors of float32 sums scale with their size). */
const REL_TOLERANCE = 1e-4;

type Arrays = Float32Array[];

interface Comparison {
  maxAbs: number;
  rel: number;
}

function compare(
  actual: Float32Array | Int32Array | Uint8Array,
  expected: Float32Array | Int32Array | Uint8Array,
): Comparison {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      expect(Number.isNaN(a)).toBe(Number.isNaN(e));
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return { maxAbs, rel: scale === 0 ? maxAbs : maxAbs / scale };
}

function format(c: Comparison): string {
  return `max abs ${c.maxAbs.toExponential(2)} (rel ${c.rel.toExponential(2)})`;
}

function dataIds(): number {
  return tf.engine().backend.numDataIds();
}

beforeAll(async () => {
  // The reference is the cpu backend as shipped, not our cpu kernels (nodeTests.setup.ts registers them).
  unregisterFastCpuKernels();
  expect(await tf.setBackend('wasm')).toBe(true);
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
  expect(wasmTrainingKernelsState()).toBe('fast');
  await tf.setBackend('cpu');
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('registration', () => {
  it('installs the filter gradient, restores the shipped kernels, and installs again', async () => {
    const fast = WASM_TRAINING_KERNEL_NAMES.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc);
    unregisterWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(wasmTrainingKernelsState()).toBe('shipped');
    registerNaiveWasmFilterGradient();
    expect(wasmTrainingKernelsState()).toBe('naive');
    registerWasmTrainingKernels();
    expect(wasmTrainingKernelsState()).toBe('fast');
    expect(WASM_TRAINING_KERNEL_NAMES.map((name) => tf.getKernel(name, 'wasm')?.kernelFunc)).toEqual(fast);
    // Fallbacks still reach the shipped kernels after all this (their WASM functions are bound).
    await tf.setBackend('wasm');
    const dx = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 3, 1, 'same').sum())(tf.ones([1, 4, 4, 1])),
    );
    expect(Array.from(await dx.data()).reduce((a, b) => a + b, 0)).toBe(16);
    dx.dispose();
  });
});

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

describe.each([
  ['sum', tf.sum],
  ['mean', tf.mean],
] as const)('%s matches the cpu backend', (name, reduce) => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [4, 9, 7, 5], axis: [0, 1, 2], keepDims: false }, // a bias gradient (small: JS)
    { shape: [8, 75, 75, 16], axis: [0, 1, 2], keepDims: false }, // a large one (XNNPACK pooling)
    { shape: [5, 149, 149, 32], axis: [0, 1, 2], keepDims: true },
    { shape: [70000, 3], axis: 0, keepDims: false },
    { shape: [4, 9, 7, 5], axis: [2, 0, 1], keepDims: true },
    { shape: [33, 17], axis: 0, keepDims: false },
    { shape: [3, 5, 6], axis: [0, 1], keepDims: false },
    { shape: [6, 5, 4], axis: [0], keepDims: true },
    { shape: [4, 9, 7, 5], axis: [1, 2], keepDims: false }, // not leading: original kernel
    { shape: [4, 9, 7, 5], axis: -1, keepDims: false },
    { shape: [4, 9, 7, 5], axis: [0, 1, 2, 3], keepDims: false },
  ];
  for (const c of cases) {
    it(`shape ${c.shape.join('x')} axis ${JSON.stringify(c.axis)} keepDims ${c.keepDims}`, async () => {
      const v = values(tf.util.sizeFromShape(c.shape), 21);
      const compute = (): tf.Tensor[] => tf.tidy(() => [reduce(tf.tensor(v, c.shape), c.axis, c.keepDims)]);
      await tf.setBackend('cpu');
      const cpuShape = tf.tidy(() => reduce(tf.tensor(v, c.shape), c.axis, c.keepDims).shape);
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const wasmShape = tf.tidy(() => reduce(tf.tensor(v, c.shape), c.axis, c.keepDims).shape);
      expect(wasmShape).toEqual(cpuShape);
      const r = compare(actual[0], expected[0]);
      console.log(`${name} ${c.shape.join('x')} axis ${JSON.stringify(c.axis)}: ${format(r)}`);
      expect(r.rel).toBeLessThan(REL_TOLERANCE);
    });
  }

  it('int32 sums stay exact (original kernel)', async () => {
    await tf.setBackend('wasm');
    const s = tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
    expect(s.dtype).toBe('int32');
    expect(Array.from(await s.data())).toEqual([9, 12]);
    s.dispose();
  });
});

describe('identity and same-dtype cast share data safely', () => {
  it('clone, cast and dispose keep the values and free everything', async () => {
    await tf.setBackend('wasm');
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = dataIds();
    const a = tf.tensor1d([1.5, -2.25, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    const d = tf.cast(a, 'int32');
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(await c.data())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(await d.data())).toEqual([1, -2, 3]);
    expect(d.dtype).toBe('int32');
    tf.dispose([b, c, d]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(dataIds()).toBe(idsBefore);
  });

  it('a variable assigned a clone of itself keeps its value', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const copy = tf.clone(v);
    v.assign(tf.tidy(() => v.mul(2)));
    expect(Array.from(await copy.data())).toEqual([1, 2, 3]);
    expect(Array.from(await v.data())).toEqual([2, 4, 6]);
    tf.dispose([v, copy]);
  });
});

/** A model, seeded (weights and dropout) so the cpu and wasm runs are the same model. */
function seededModel(name: ModelName, size: number): tf.LayersModel {
  return buildModel(name, { imageSize: size, numClasses: 2, learningRate: 1e-3, seed: 100, dropoutSeed: 105 });
}

async function trainingRun(
  name: ModelName,
  backend: string,
  size: number,
  steps: number,
): Promise<{ losses: number[]; tensors: number[]; ids: number[] }> {
  await tf.setBackend(backend);
  const model = seededModel(name, size);
  const xs = tf.tensor4d(
    values(4 * size * size, 31).map((v) => (v + 1) / 2),
    [4, size, size, 1],
  );
  const ys = tf.tensor2d([0, 1, 1, 0], [4, 1]);
  const losses: number[] = [];
  const tensors: number[] = [];
  const ids: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const loss = await model.trainOnBatch(xs, ys);
      losses.push(Array.isArray(loss) ? loss[0] : loss);
      tensors.push(tf.memory().numTensors);
      ids.push(dataIds());
    }
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
  return { losses, tensors, ids };
}

describe('batchNorm forward and gradients match the cpu backend', () => {
  const cases: {
    name: string;
    shape: [number, number, number, number];
    stats: number[];
    scale: boolean;
    offset: boolean;
  }[] = [
    {
      name: 'per-channel [c] statistics, scale and offset',
      shape: [3, 7, 5, 4],
      stats: [4],
      scale: true,
      offset: true,
    },
    {
      name: 'statistics of rank 4 [1, 1, 1, c], no scale',
      shape: [2, 6, 6, 8],
      stats: [1, 1, 1, 8],
      scale: false,
      offset: true,
    },
    { name: 'no offset', shape: [2, 5, 3, 3], stats: [3], scale: true, offset: false },
    { name: 'one channel, neither', shape: [4, 3, 3, 1], stats: [1], scale: false, offset: false },
    { name: 'mean far from zero (x − mean first)', shape: [2, 4, 4, 2], stats: [2], scale: true, offset: true },
    {
      name: 'full-shape statistics (shipped kernel)',
      shape: [1, 3, 3, 2],
      stats: [1, 3, 3, 2],
      scale: true,
      offset: true,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const far = c.name.startsWith('mean far') ? 1000 : 0;
      const xv = values(tf.util.sizeFromShape(c.shape), 21).map((v) => v + far);
      const n = tf.util.sizeFromShape(c.stats);
      const compute = (): tf.Tensor[] =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.shape);
          const mean = tf.tensor(
            values(n, 22).map((v) => v + far),
            c.stats,
          );
          const variance = tf.tensor(
            values(n, 23).map((v) => v * v + 0.1),
            c.stats,
          );
          const scale = c.scale ? tf.tensor(values(n, 24), c.stats) : undefined;
          const offset = c.offset ? tf.tensor(values(n, 25), c.stats) : undefined;
          const y = tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
          // tfjs differentiates batchNorm only with both scale and offset (it saves the scale for the backward pass).
          if (!scale || !offset) return [y];
          const r = tf.tensor(values(y.size, 26), y.shape);
          const grads = tf.grads((xx: tf.Tensor, mm: tf.Tensor, vv: tf.Tensor, ss: tf.Tensor, oo: tf.Tensor) =>
            tf
              .batchNorm(xx as tf.Tensor4D, mm, vv, oo, ss, 1e-3)
              .mul(r)
              .sum(),
          )([x, mean, variance, scale, offset]);
          return [y, ...grads];
        });
      const expected = await on('cpu', compute);
      const actual = await on('wasm', compute);
      const results = actual.map((a, i) => compare(a, expected[i]));
      console.log(`batchNorm ${c.name}: ${results.map(format).join('; ')}`);
      for (const r of results) expect(r.rel).toBeLessThan(1e-5);
    });
  }
});

// Every model the app offers must train on wasm with the kernels it has (the BatchNorm variant needs
// FusedBatchNorm, Mean, SquaredDifference, Rsqrt and Tile and their gradients' ops, which wasm ships).
describe.each(MODEL_NAMES)('training the %s model (32 px) on wasm', (name) => {
  it('follows the cpu loss trajectory, without leaking tensors', async () => {
    const steps = 5;
    const cpu = await trainingRun(name, 'cpu', 32, steps);
    const wasm = await trainingRun(name, 'wasm', 32, steps);
    const diffs = cpu.losses.map((l, i) => Math.abs(l - wasm.losses[i]));
    console.log(
      `training losses cpu  [${cpu.losses.map((l) => l.toFixed(6)).join(', ')}]\n` +
        `training losses wasm [${wasm.losses.map((l) => l.toFixed(6)).join(', ')}]\n` +
        `max abs loss difference ${Math.max(...diffs).toExponential(2)}; wasm tensors per step [${wasm.tensors.join(', ')}], data ids [${wasm.ids.join(', ')}]`,
    );
    for (let i = 0; i < steps; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
    expect(cpu.losses[steps - 1]).toBeLessThan(cpu.losses[0]); // it does learn this batch
    // Flat from the second step on (the optimizer creates its slots in the first).
    expect(new Set(wasm.tensors.slice(1)).size).toBe(1);
    expect(new Set(wasm.ids.slice(1)).size).toBe(1);
  });

  it('a training step leaves the tensor count unchanged', async () => {
    await tf.setBackend('wasm');
    const model = seededModel(name, 32);
    const xs = tf.randomUniform([8, 32, 32, 1], 0, 1, 'float32', 3);
    const ys = tf.tensor2d([0, 1, 0, 1, 0, 1, 0, 1], [8, 1]);
    await model.trainOnBatch(xs, ys);
    const tensors = tf.memory().numTensors;
    const ids = dataIds();
    await model.trainOnBatch(xs, ys);
    await model.trainOnBatch(xs, ys);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(dataIds()).toBe(ids);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
