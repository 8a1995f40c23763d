/**
 * A convolution's bias add and ReLU in training, and the bias gradient's sums, on our native kernels split
 * between threads. In training tfjs-core does not fuse a convolution with its bias and activation (it fuses
 * only while no gradient is recorded): it runs Conv2D, Add (the bias, broadcast over the pixels) and Relu,
 * and the bias gradient is a Sum over every pixel. XNNPACK runs these on tfjs' own pool, which the app
 * keeps at one thread (wasm.ts); here they run on every thread. Each returns null where it does not apply
 * (other shapes or types, no native kernels), and the caller runs the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ChannelScratch, MIN_PIXELS_A_SHARE } from './channelScratch';
import type { KernelArgs } from '../wasmKernelUtil';
import { MIN_ELEMENTS_A_SHARE } from './elementwiseKernels';
import { nativeKernelsFor } from './nativeKernels';

type TensorInfo = tf.TensorInfo;

/** Fewer elements than this in all are left to XNNPACK: a kernel call of ours costs a few µs more. */
const MIN_NATIVE_ELEMENTS = 1 << 14;

/** Whether `bias` is one number a channel of `x` (shape [c], or [1, ..., 1, c]). */
function isChannelBias(x: TensorInfo, bias: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  return (
    bias.shape.length <= x.shape.length &&
    bias.shape[bias.shape.length - 1] === c &&
    tf.util.sizeFromShape(bias.shape) === c
  );
}

/** x + bias for a channels-last float32 x and a per-channel bias (either operand order), or null. */
export function nativeBiasAdd(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  const native = nativeKernelsFor(backend);
  if (native === null || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [x, bias] = tf.util.sizeFromShape(a.shape) >= tf.util.sizeFromShape(b.shape) ? [a, b] : [b, a];
  const size = tf.util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || size < MIN_NATIVE_ELEMENTS || !isChannelBias(x, bias)) return null;
  const c = x.shape[x.shape.length - 1];
  const y = backend.makeOutput([...x.shape], 'float32');
  const [x0, y0, b0] = [native.offset(x), native.offset(y), native.offset(bias)];
  native.split(
    'channel_bias',
    size / c,
    (start, end) => [x0 + 4 * c * start, y0 + 4 * c * start, end - start, c, b0, 0],
    MIN_PIXELS_A_SHARE,
  );
  return y;
}

/** max(0, x) for a float32 x, or null. */
export function nativeRelu(backend: BackendWasm, x: TensorInfo): TensorInfo | null {
  const native = nativeKernelsFor(backend);
  const size = tf.util.sizeFromShape(x.shape);
  if (native === null || x.dtype !== 'float32' || size < MIN_NATIVE_ELEMENTS) return null;
  const y = backend.makeOutput([...x.shape], 'float32');
  const [x0, y0] = [native.offset(x), native.offset(y)];
  native.split('relu', size, (start, end) => [x0 + 4 * start, y0 + 4 * start, end - start], MIN_ELEMENTS_A_SHARE);
  return y;
}

/**
 * Per-column float64 sums of x seen as [rows, columns] (the bias gradient: a Sum over every pixel of a
 * channels-last gradient), or null. Rows split between threads (csrc/batch_norm.c, channel_sums, with no shift;
 * its sums of squares go unused).
 */
export function nativeColumnSums(backend: BackendWasm, x: TensorInfo, columns: number): Float64Array | null {
  const native = nativeKernelsFor(backend);
  const size = tf.util.sizeFromShape(x.shape);
  if (native === null || x.dtype !== 'float32' || size < MIN_NATIVE_ELEMENTS) return null;
  const rows = size / columns;
  const x0 = native.offset(x);
  const scratch = ChannelScratch.forPixels(native, backend, columns, rows);
  try {
    native.floatsAt(scratch.centre, columns).fill(0); // no shift
    native.split(
      'channel_sums',
      rows,
      (start, end, share) => [
        x0 + 4 * columns * start,
        end - start,
        columns,
        scratch.centre,
        scratch.partial(share),
        scratch.totals(share),
      ],
      MIN_PIXELS_A_SHARE,
    );
    return scratch.sumTotals().subarray(0, columns);
  } finally {
    scratch.dispose();
  }
}

/**
 * The kernel ReluGradBias of model/convBiasRelu.ts: dy masked where the ReLU's output y is not positive, and
 * its per-channel sums (the bias gradient), in one pass on every thread (csrc/bias_relu.c, relu_grad_sums).
 */
export function reluGradBias(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = nativeKernelsFor(backend);
  if (native === null) throw new Error('The WebAssembly ReluGradBias kernel is not loaded for this backend.');
  const { dy, y } = args.inputs as { dy: TensorInfo; y: TensorInfo };
  if (dy.dtype !== 'float32' || y.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, y.shape))
    throw new Error('ReluGradBias takes float32 dy and y of one shape.');
  const c = y.shape[y.shape.length - 1];
  const rows = tf.util.sizeFromShape(y.shape) / c;
  const masked = backend.makeOutput([...y.shape], 'float32');
  const [dy0, y0, out0] = [native.offset(dy), native.offset(y), native.offset(masked)];
  const scratch = ChannelScratch.forPixels(native, backend, c, rows);
  try {
    native.split(
      'relu_grad_sums',
      rows,
      (start, end, share) => [
        dy0 + 4 * c * start,
        y0 + 4 * c * start,
        out0 + 4 * c * start,
        end - start,
        c,
        scratch.partial(share),
        scratch.totals(share),
      ],
      MIN_PIXELS_A_SHARE,
    );
    // relu_grad_sums writes c totals a share; sumTotals adds 2c, of which the first c are those.
    return [
      masked,
      backend.makeOutput([c], 'float32', undefined, Float32Array.from(scratch.sumTotals().subarray(0, c))),
    ];
  } finally {
    scratch.dispose();
  }
}
