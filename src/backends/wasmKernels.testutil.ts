/** What the WASM kernels' tests share: the comparison with the cpu backend, and the kernels registered around them. */
import { afterAll, beforeAll, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernelsState } from './wasmKernels';
import { unregisterFastCpuKernels } from './cpuKernels';

/** Max |wasm − cpu| over max |cpu| (errors of float32 sums scale with their size). */
export const REL_TOLERANCE = 1e-4;

export interface Comparison {
  maxAbs: number;
  rel: number;
}

export function compare(
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

export function format(c: Comparison): string {
  return `max abs ${c.maxAbs.toExponential(2)} (rel ${c.rel.toExponential(2)})`;
}

export function dataIds(): number {
  return tf.engine().backend.numDataIds();
}

/** Our training kernels on the wasm backend for the tests of a file; the cpu backend is the shipped one (the reference). */
export function withWasmTrainingKernels(): void {
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
}
