/**
 * Plumbing shared by the WASM training kernels (wasmConv*.ts, wasmPoolKernels.ts, wasmNormKernels.ts and the
 * registration in wasmKernels.ts): running another WASM kernel directly, and reading the WASM heap.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;

export const BACKEND = 'wasm';

export type { KernelArgs } from './kernelOverrides';

/** Runs another WASM kernel directly (no engine, no tape): the caller disposes what it returns. */
export function run(
  name: string,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  if (kernel === undefined) throw new Error(`The WASM backend has no '${name}' kernel.`);
  const out = kernel.kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs });
  if (Array.isArray(out)) throw new Error(`Kernel '${name}' returned several tensors.`);
  return out;
}

/** A second look at the same data with another shape; never disposed, never returned. */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function dispose(backend: BackendWasm, ...infos: (TensorInfo | null)[]): void {
  for (const info of infos) if (info !== null) backend.disposeData(info.dataId);
}

export function f32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}
