/**
 * Element-wise native kernels for the WASM backend: ReluGrad (model/reluGradient.ts), split between threads,
 * and RMSPropUpdate (model/rmsprop.ts), one call a variable.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from '../wasmKernelUtil';
import { nativeKernelsFor } from './nativeKernels';

/** Fewer elements than this a thread are not worth waking a helper for. */
export const MIN_ELEMENTS_A_SHARE = 1 << 16;

export function reluGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const native = nativeKernelsFor(backend);
  if (native === null) throw new Error('The WebAssembly ReluGrad kernel is not loaded for this backend.');
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) {
    throw new Error('ReluGrad takes float32 dy and x of one shape.');
  }
  const out = backend.makeOutput([...x.shape], 'float32');
  const [dy0, x0, out0] = [native.offset(dy), native.offset(x), native.offset(out)];
  native.split(
    'relu_grad',
    tf.util.sizeFromShape(x.shape),
    (start, end) => [dy0 + 4 * start, x0 + 4 * start, out0 + 4 * start, end - start],
    MIN_ELEMENTS_A_SHARE,
  );
  return out;
}

interface RmspropAttrs {
  decay: number;
  momentum: number;
  learningRate: number;
  epsilon: number;
}

export function rmspropUpdate(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = nativeKernelsFor(backend);
  if (native === null) throw new Error('The WebAssembly RMSPropUpdate kernel is not loaded for this backend.');
  const { value, ms, mom, grad } = args.inputs as Record<'value' | 'ms' | 'mom' | 'grad', tf.TensorInfo>;
  const { decay, momentum, learningRate, epsilon } = args.attrs as unknown as RmspropAttrs;
  for (const t of [value, ms, mom, grad]) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, value.shape))
      throw new Error('RMSPropUpdate takes float32 tensors of one shape.');
  }
  const outputs = [0, 1, 2].map(() => backend.makeOutput([...value.shape], 'float32'));
  const [v0, ms0, mom0, g0] = [value, ms, mom, grad].map((t) => native.offset(t));
  const [v1, ms1, mom1] = outputs.map((t) => native.offset(t));
  // 1 − decay in float64 and then float32, as tfjs' mul(x, 1 - decay) makes its scalar.
  native.kernels.rmsprop_update(
    v0,
    ms0,
    mom0,
    g0,
    v1,
    ms1,
    mom1,
    tf.util.sizeFromShape(value.shape),
    decay,
    1 - decay,
    momentum,
    learningRate,
    epsilon,
  );
  return outputs;
}
