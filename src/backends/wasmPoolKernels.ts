/**
 * The WASM max-pool kernels of training (see wasmKernels.ts):
 *
 * - MaxPool: our native kernel (csrc/max_pool.c, max_pool_2x2) where the windows are 2×2; else WASM's own (XNNPACK).
 * - MaxPoolGrad (replaced): one pass over the input that routes each window's gradient to its
 *   first maximum in row-major order, exactly like the tfjs CPU (and WebGL) kernels do on ties;
 *   for 2x2 stride-2 unpadded pooling, our native SIMD kernel (native/csrc/max_pool.c) where it is loaded,
 *   else a loop that finds that maximum by comparing with the forward output.
 *   The shipped kernel is not even used as a fallback: it searches from FLT_MIN with '>=', so it
 *   gives tied gradients to the last maximum and misroutes the gradient of windows whose values
 *   are all ≤ 1.2e-38 (all negative, say).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callOriginal } from './kernelOverrides';
import { nativeKernelsFor } from './native/nativeKernels';
import { maxPoolGradAnyWindow, poolInfoOf, type MaxPoolGradAttrs } from './maxPoolGrad';
import { BACKEND, f32, type KernelArgs } from './wasmKernelUtil';

type TensorInfo = tf.TensorInfo;

/** Non-overlapping 2×2 windows from the top left corner, none past the edge: what the app's models pool. */
function isWindows2x2(info: tf.backend_util.Conv2DInfo): boolean {
  const { padInfo, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  return (
    fh === 2 &&
    fw === 2 &&
    sh === 2 &&
    sw === 2 &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth
  );
}

/**
 * MaxPool on our native kernel (csrc/max_pool.c, max_pool_2x2) where the windows are 2×2, images cut into chunks the
 * threads share; else WASM's own (XNNPACK).
 */
export function maxPool(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  const native = nativeKernelsFor(backend);
  if (native === null || x.dtype !== 'float32' || x.shape.length !== 4) return callOriginal(BACKEND, tf.MaxPool, args);
  const info = poolInfoOf(x.shape, args.attrs as unknown as MaxPoolGradAttrs);
  if (
    !isWindows2x2(info) ||
    info.outHeight !== Math.floor(info.inHeight / 2) ||
    info.outWidth !== Math.floor(info.inWidth / 2)
  )
    return callOriginal(BACKEND, tf.MaxPool, args);
  const [n, h, w, c] = x.shape;
  const y = backend.makeOutput([n, info.outHeight, info.outWidth, c], 'float32');
  const [inBytes, outBytes] = [4 * h * w * c, 4 * info.outHeight * info.outWidth * c];
  native.splitImages(
    'max_pool_2x2',
    n,
    [
      [native.offset(x), inBytes],
      [native.offset(y), outBytes],
    ],
    [h, w, c],
  );
  return y;
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad

export function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output?: TensorInfo };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) {
    return callOriginal(BACKEND, tf.MaxPoolGrad, args);
  }
  const info = poolInfoOf(input.shape, attrs);
  const windows2x2 = isWindows2x2(info);
  const fast2x2 =
    windows2x2 && output !== undefined && output.dtype === 'float32' && tf.util.arraysEqual(output.shape, dy.shape);
  const dx = backend.makeOutput([...input.shape], 'float32');
  const native = nativeKernelsFor(backend);
  if (native !== null && windows2x2) {
    const [n, h, w, c] = input.shape;
    const [inBytes, outBytes] = [4 * h * w * c, 4 * info.outHeight * info.outWidth * c];
    // Images split between threads: each chunk writes its own images' rows of dx.
    native.splitImages(
      'max_pool_2x2_grad',
      n,
      [
        [native.offset(input), inBytes],
        [native.offset(dy), outBytes],
        [native.offset(dx), inBytes],
      ],
      [h, w, c],
    );
    return dx;
  }
  const xs = f32(backend, input);
  const g = f32(backend, dy);
  const out = f32(backend, dx);
  if (fast2x2) maxPoolGrad2x2(xs, f32(backend, output), g, out, info);
  else maxPoolGradAnyWindow(xs, g, out, info);
  return dx;
}

/**
 * Non-overlapping 2×2 windows: each window's gradient goes to its first maximum in row-major order
 * (strictly greater than everything before it, starting from −∞), as in the tfjs CPU kernel; NaN
 * is never a maximum, and a window with no value above −∞ gets no gradient. The forward pass's
 * output y is that maximum, so the first element equal to it is the answer (one comparison per
 * element instead of a scan); when y is NaN or −∞ or not found, the window is scanned.
 */
function maxPoolGrad2x2(
  x: Float32Array,
  y: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const rowStride = inWidth * c;
  dx.fill(0);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const row0 = (n * inHeight + 2 * oh) * rowStride;
      const row1 = row0 + rowStride;
      for (let ow = 0; ow < outWidth; ow++) {
        const col = 2 * ow * c;
        for (let d = 0; d < c; d++, o++) {
          const i0 = row0 + col + d;
          const i2 = row1 + col + d;
          const m = y[o];
          if (m > -Infinity) {
            if (x[i0] === m) {
              dx[i0] = dy[o];
              continue;
            }
            if (x[i0 + c] === m) {
              dx[i0 + c] = dy[o];
              continue;
            }
            if (x[i2] === m) {
              dx[i2] = dy[o];
              continue;
            }
            if (x[i2 + c] === m) {
              dx[i2 + c] = dy[o];
              continue;
            }
          }
          // y is NaN or −∞, or not in the window: scan as the CPU kernel does.
          let best = -1;
          let max = -Infinity;
          for (const i of [i0, i0 + c, i2, i2 + c]) {
            if (x[i] > max) {
              max = x[i];
              best = i;
            }
          }
          if (best >= 0) dx[best] = dy[o];
        }
      }
    }
  }
}
