/**
 * The WASM training kernels against tfjs' CPU backend (the reference): forward values and every
 * gradient of convolutions and max pooling, reductions, and whole training steps of the CNN. Here: registering
 * the kernels, Identity and Cast, and training each model; the kernels' own values are in wasmConvKernels.test.ts,
 * wasmPoolKernels.test.ts and wasmNormKernels.test.ts.
 * Runs in Node, where tfjs-backend-wasm loads its single-threaded SIMD binary from node_modules.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { values } from './backendCompare.testutil';
import { withWasmTrainingKernels, dataIds } from './wasmKernels.testutil';
import { MODEL_NAMES, buildModel, type ModelName } from '../model/models';
import {
  WASM_TRAINING_KERNEL_NAMES,
  registerNaiveWasmFilterGradient,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  wasmTrainingKernelsState,
} from './wasmKernels';

withWasmTrainingKernels();

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
