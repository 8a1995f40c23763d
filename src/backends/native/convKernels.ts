/**
 * Stride-1 unpadded NHWC convolutions (every convolution of this app's models) on our native kernels, images
 * cut into chunks the threads share (nativeKernels.ts, split): the filter gradient (Conv2DBackpropFilter, which
 * WASM lacks), the forward pass (Conv2D, and FusedConv2D with a bias and a linear or ReLU activation) and the
 * input gradient (Conv2DBackpropInput). Each returns null where it does not apply (other geometry or
 * activation, no native kernels), and the caller takes its other path (XNNPACK, on tfjs' one thread: see
 * wasm.ts). Measured: on one thread ours, one register-blocked row kernel (csrc/conv2d.c, gemm_row), make a
 * training step 1.7x faster than XNNPACK's (bench:wasm, tutorial, 64 and 150 px).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsFor } from './nativeKernels';

type TensorInfo = tf.TensorInfo;
type Pair = number | [number, number];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export interface ConvGeometry {
  strides: Pair;
  pad: Pad;
  dataFormat?: string;
  dilations?: Pair;
}

/** Channels summed over a tap (forward: input; input gradient: output) below which XNNPACK is faster. */
const MIN_SUMMED_CHANNELS = 4;

const isOne = (v: Pair | undefined) => v === undefined || (Array.isArray(v) ? v[0] === 1 && v[1] === 1 : v === 1);

/** Stride 1, dilation 1, no padding, channels last. */
function isStrideOneUnpadded(g: ConvGeometry): boolean {
  const unpadded =
    g.pad === 'valid' || g.pad === 0 || (Array.isArray(g.pad) && g.pad.every(([a, b]) => a === 0 && b === 0));
  return (
    unpadded &&
    isOne(g.strides) &&
    isOne(g.dilations) &&
    (g.dataFormat === undefined || g.dataFormat === 'NHWC' || g.dataFormat === 'channelsLast')
  );
}

function allFloat32(...infos: (TensorInfo | undefined)[]): boolean {
  return infos.every((t) => t === undefined || t.dtype === 'float32');
}

/** y = act(conv(x, filter) + bias), or null where this does not apply. */
export function nativeConvForward(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  geometry: ConvGeometry,
  bias?: TensorInfo,
  activation = 'linear',
): TensorInfo | null {
  const native = nativeKernelsFor(backend);
  if (native === null || !isStrideOneUnpadded(geometry) || x.shape.length !== 4 || !allFloat32(x, filter, bias))
    return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  const [n, h, w, ci] = x.shape;
  const [kh, kw, fci, co] = filter.shape;
  // 2 or 3 input channels: each tap would re-read and re-write the whole output row for two or three products;
  // XNNPACK does that in one pass. One channel (the images) has its own one-pass path (csrc/conv2d.c, conv_row_c1).
  if (
    fci !== ci ||
    (ci !== 1 && ci < MIN_SUMMED_CHANNELS) ||
    h < kh ||
    w < kw ||
    (bias !== undefined && tf.util.sizeFromShape(bias.shape) !== co)
  )
    return null;
  const y = backend.makeOutput([n, h - kh + 1, w - kw + 1, co], 'float32');
  const [x0, w0, b0, y0] = [native.offset(x), native.offset(filter), bias ? native.offset(bias) : 0, native.offset(y)];
  const relu = activation === 'relu' ? 1 : 0;
  native.split('conv2d_forward', n, (start, end) => [x0, w0, b0, y0, start, end, h, w, ci, co, kh, kw, relu]);
  return y;
}

/** dx of conv(x, filter) for the output gradient dy, or null where this does not apply. */
export function nativeConvInputGrad(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: readonly number[],
  geometry: ConvGeometry,
): TensorInfo | null {
  const native = nativeKernelsFor(backend);
  if (native === null || !isStrideOneUnpadded(geometry) || inputShape.length !== 4 || !allFloat32(dy, filter))
    return null;
  const [n, h, w, ci] = inputShape;
  const [kh, kw, fci, co] = filter.shape;
  if (
    fci !== ci ||
    co < MIN_SUMMED_CHANNELS ||
    dy.shape[1] !== h - kh + 1 ||
    dy.shape[2] !== w - kw + 1 ||
    dy.shape[3] !== co
  )
    return null;
  // The filter with its channel axes swapped, [kh, kw, co, ci] (a few thousand numbers).
  const weights = native.read(filter);
  const swapped = new Float32Array(weights.length);
  for (let tap = 0; tap < kh * kw; tap++) {
    for (let i = 0; i < ci; i++)
      for (let o = 0; o < co; o++) swapped[(tap * co + o) * ci + i] = weights[(tap * ci + i) * co + o];
  }
  const wt = backend.makeOutput([kh, kw, co, ci], 'float32', undefined, swapped);
  try {
    const dx = backend.makeOutput([n, h, w, ci], 'float32');
    const [dy0, wt0, dx0] = [native.offset(dy), native.offset(wt), native.offset(dx)];
    native.split('conv2d_input_grad', n, (start, end) => [dy0, wt0, dx0, start, end, h, w, ci, co, kh, kw]);
    return dx;
  } finally {
    backend.disposeData(wt.dataId);
  }
}

/**
 * dW [kh, kw, ci, co] of conv(x, W) for the output gradient dy, or null where this does not apply. Images
 * split between threads: each thread sums its images into its own dW (csrc/conv2d_filter_grad.c),
 * and the few thousand numbers of each are added here.
 */
export function nativeConvFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: readonly number[],
  geometry: ConvGeometry,
): TensorInfo | null {
  const native = nativeKernelsFor(backend);
  if (native === null || !isStrideOneUnpadded(geometry) || x.shape.length !== 4 || !allFloat32(x, dy)) return null;
  const [n, h, w, ci] = x.shape;
  const [kh, kw, fci, co] = filterShape;
  if (fci !== ci || dy.shape[1] !== h - kh + 1 || dy.shape[2] !== w - kw + 1 || dy.shape[3] !== co) return null;
  const size = kh * kw * ci * co;
  const shares = native.sharesFor(n);
  // Per share: its dW, then its scratch for one image's sum.
  const scratch = backend.makeOutput([shares * 2 * size], 'float32');
  try {
    const at = native.offset(scratch);
    native.floatsAt(at, shares * 2 * size).fill(0);
    const [x0, dy0] = [native.offset(x), native.offset(dy)];
    native.split('conv2d_filter_grad', n, (start, end, share) => [
      x0,
      dy0,
      at + 8 * size * share,
      at + 8 * size * share + 4 * size,
      start,
      end,
      h,
      w,
      ci,
      co,
      kh,
      kw,
    ]);
    const dw = native.floatsAt(at, size).slice();
    for (let share = 1; share < shares; share++) {
      const part = native.floatsAt(at + 8 * size * share, size);
      for (let k = 0; k < size; k++) dw[k] += part[k];
    }
    return backend.makeOutput([kh, kw, ci, co], 'float32', undefined, dw);
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

/**
 * The fused kernel of model/convBiasRelu.ts: max(0, conv(x, filter) + bias) in one pass on every thread, or
 * through WASM's own FusedConv2D (XNNPACK) where ours does not apply (2 or 3 input channels).
 */
export function convBiasReluKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias: TensorInfo };
  const geometry = { strides: 1, pad: 'valid' as const, dataFormat: 'NHWC', dilations: 1 };
  const native = nativeConvForward(backend, x, filter, geometry, bias, 'relu');
  if (native !== null) return native;
  const fused = tf.getKernel(tf.FusedConv2D, 'wasm');
  if (fused === undefined) throw new Error('The WASM backend has no FusedConv2D kernel.');
  return fused.kernelFunc({
    inputs: { x, filter, bias },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { ...geometry, dimRoundingMode: undefined, activation: 'relu' } as unknown as tf.NamedAttrMap,
  }) as TensorInfo;
}
