/** What the native kernels' tests share: the kernels started in tfjs' WASM heap, a run on each thread count, the error. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { unregisterFastCpuKernels } from '../cpuKernels';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../wasmKernels';
import { nativeKernelsFor } from './nativeKernels';
import { nativeBytesFromDisk, startNativeKernels, stopNativeKernels } from './register';

export const fromDisk = nativeBytesFromDisk((url) => readFile(url));

/** Max |actual − expected| over max |expected|. */
export function relativeError(actual: Float32Array, expected: Float32Array | Float64Array): number {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? maxAbs : maxAbs / scale;
}

/** The native kernels (and ours in TypeScript) on the wasm backend for the tests of a file; cpu is the shipped one. */
export function withNativeKernels(): void {
  beforeAll(async () => {
    unregisterFastCpuKernels(); // the reference is the cpu backend as shipped
    expect(await tf.setBackend('wasm')).toBe(true);
    registerWasmTrainingKernels();
    expect(await startNativeKernels(tf.findBackend('wasm') as BackendWasm, fromDisk)).toBeNull();
    await tf.setBackend('cpu');
  });

  afterAll(() => {
    stopNativeKernels();
    unregisterWasmTrainingKernels();
  });
}

// Each kernel whole, and split into three runs (two inline partners: the splitting of the helper threads, on one thread).
export function describeWithPartners(body: (partners: number) => void): void {
  describe.each([0, 2])('with %i partners', (partners) => {
    beforeAll(async () => {
      stopNativeKernels();
      expect(
        await startNativeKernels(tf.findBackend('wasm') as BackendWasm, fromDisk, {
          threads: partners + 1,
          inlinePartners: partners,
        }),
      ).toBeNull();
      expect(nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)?.threads).toBe(partners + 1);
    });

    body(partners);
  });
}
