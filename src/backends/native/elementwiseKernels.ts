/** Element-wise native kernels for the WASM backend: ReluGrad (model/reluGradient.ts), split between threads. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from '../wasmKernelUtil';
import { nativeKernelsFor } from './nativeKernels';

/** Fewer elements than this a thread are not worth waking a helper for. */
const MIN_ELEMENTS_A_SHARE = 1 << 16;

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
  native.split('relu_grad', tf.util.sizeFromShape(x.shape), (start, end) => [dy0 + 4 * start, x0 + 4 * start, out0 + 4 * start, end - start], MIN_ELEMENTS_A_SHARE);
  return out;
}
