/**
 * The WASM normalisation and reduction kernels of training (see wasmKernels.ts; the max pool's are in
 * wasmPoolKernels.ts), plus Identity and Cast:
 *
 * - FusedBatchNorm (replaced for NHWC input with per-channel statistics): x − mean (WASM's Sub), then a
 *   1×1 depthwise convolution by scale / sqrt(variance + eps) with the offset as its bias, two XNNPACK
 *   passes instead of the shipped kernel's square root and division per element (~4x faster at 150 px).
 * - Sum (replaced when reducing leading axes, e.g. a bias gradient summed over batch, rows and
 *   columns): XNNPACK average pooling over one window covering those axes, times its size (or a
 *   float64 column sum when small), instead of WASM's slow 4-D transpose and innermost reduction.
 *   Mean likewise (BatchNormalization's batch statistics). Other reductions go to the shipped kernels.
 * - Add and Relu: a convolution's bias and ReLU on every thread (native/biasReluKernels.ts) for large tensors.
 * - Identity, and Cast to the same dtype (replaced): share the data and count a reference, as the
 *   CPU and WebGL backends do, instead of copying it. The engine clones every tensor it saves for
 *   the backward pass, and the ReLU gradient casts float32 to float32.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callOriginal } from './kernelOverrides';
import { nativeKernelsFor } from './native/nativeKernels';
import { MIN_PIXELS_A_SHARE } from './native/channelScratch';
import { nativeBiasAdd, nativeColumnSums, nativeRelu } from './native/biasReluKernels';
import { BACKEND, dispose, f32, run, view, type KernelArgs } from './wasmKernelUtil';

type TensorInfo = tf.TensorInfo;

/** Sums of at least this many elements over leading axes go through XNNPACK average pooling. */
const MIN_POOLED_SUM = 1 << 16;

// ---------------------------------------------------------------------------------------------
// FusedBatchNorm

/**
 * Batch normalisation with per-channel statistics (what a BatchNormalization layer runs, in training and
 * inference): y = (x − mean) · scale / sqrt(variance + eps) + offset, as two XNNPACK passes: x − mean
 * (WASM's Sub), then a 1×1 depthwise convolution whose filter is the per-channel factor
 * scale / sqrt(variance + eps) (computed once a channel, in float64) and whose bias is the offset. The
 * shipped kernel takes a square root and a division per element on one thread: at 150 px, batch 32, its
 * first layer's call took 90 ms, these two 23 ms. NHWC 4-D input only; other shapes go to the shipped kernel.
 */
export function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, mean, variance, offset, scale } = args.inputs as {
    x: TensorInfo;
    mean: TensorInfo;
    variance: TensorInfo;
    offset?: TensorInfo;
    scale?: TensorInfo;
  };
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const channels = x.shape.length === 4 ? x.shape[3] : 0;
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined ||
    (t.dtype === 'float32' &&
      t.shape.length >= 1 &&
      t.shape[t.shape.length - 1] === channels &&
      tf.util.sizeFromShape(t.shape) === channels);
  if (
    x.dtype !== 'float32' ||
    channels < 1 ||
    tf.util.sizeFromShape(x.shape) === 0 ||
    ![mean, variance, offset, scale].every(perChannel)
  ) {
    return callOriginal(BACKEND, tf.FusedBatchNorm, args);
  }
  // Read before anything is allocated: a new tensor may grow the WASM heap and move every view of it.
  const v = f32(backend, variance);
  const s = scale ? f32(backend, scale) : null;
  const factors = new Float32Array(channels);
  for (let c = 0; c < channels; c++) factors[c] = (s ? s[c] : 1) / Math.sqrt(v[c] + varianceEpsilon);
  const native = nativeKernelsFor(backend);
  if (native !== null) {
    // One pass, y = (x − mean)·γ/σ + β (csrc/batch_norm.c, channel_affine, as in training), pixels split between threads.
    const coef = new Float32Array(3 * channels);
    coef.set(f32(backend, mean).subarray(0, channels));
    coef.set(factors, channels);
    if (offset) coef.set(f32(backend, offset).subarray(0, channels), 2 * channels);
    const coefInfo = backend.makeOutput([3 * channels], 'float32', undefined, coef);
    try {
      const y = backend.makeOutput([...x.shape], 'float32');
      const [x0, y0, c0] = [native.offset(x), native.offset(y), native.offset(coefInfo)];
      const npix = tf.util.sizeFromShape(x.shape) / channels;
      native.split(
        'channel_affine',
        npix,
        (start, end) => [x0 + 4 * channels * start, y0 + 4 * channels * start, end - start, channels, c0, 0],
        MIN_PIXELS_A_SHARE,
      );
      return y;
    } finally {
      backend.disposeData(coefInfo.dataId);
    }
  }
  // A rank-1 copy: the depthwise kernel reads the bias's stored shape, and the offset may be [1, 1, 1, c].
  const shifts = offset ? f32(backend, offset).slice() : null;
  const centred = run('Sub', backend, { a: x, b: view(mean, [channels]) });
  const filter = backend.makeOutput([1, 1, channels, 1], 'float32');
  const bias = shifts ? backend.makeOutput([channels], 'float32') : null;
  try {
    f32(backend, filter).set(factors);
    if (bias && shifts) f32(backend, bias).set(shifts);
    const inputs: tf.NamedTensorInfoMap = bias ? { x: centred, filter, bias } : { x: centred, filter };
    return run(tf.FusedDepthwiseConv2D, backend, inputs, {
      strides: [1, 1],
      pad: 'valid',
      dilations: [1, 1],
      dataFormat: 'NHWC',
      activation: 'linear',
    });
  } finally {
    dispose(backend, centred, filter, bias);
  }
}

// ---------------------------------------------------------------------------------------------
// Sum and Mean

export function sum(args: KernelArgs): TensorInfo {
  return sumOrMean(args, tf.Sum);
}

/**
 * Mean over leading axes: a BatchNormalization layer's batch statistics (each channel's mean over batch,
 * rows and columns, twice a step), which WASM's Mean computes by transposing the whole input first (the
 * costliest kernel of a BatchNorm model's step at 150 px). The same path as Sum, without the multiplication.
 */
export function mean(args: KernelArgs): TensorInfo {
  return sumOrMean(args, tf.Mean);
}

function sumOrMean(args: KernelArgs, kernelName: typeof tf.Sum | typeof tf.Mean): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  const size = tf.util.sizeFromShape(x.shape);
  if (!leading || x.dtype !== 'float32' || size === 0) return callOriginal(BACKEND, kernelName, args);

  const inner = tf.util.sizeFromShape(x.shape.slice(axes.length));
  const outer = size / inner;
  const shape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
  if (size < MIN_POOLED_SUM) {
    // Small (dense-layer biases, metrics): column sums in float64, one pass.
    const out = backend.makeOutput(shape, 'float32');
    const xs = f32(backend, x);
    const acc = new Float64Array(inner);
    for (let i = 0, o = 0; i < outer; i++) {
      for (let j = 0; j < inner; j++, o++) acc[j] += xs[o];
    }
    if (kernelName === tf.Mean) for (let j = 0; j < inner; j++) acc[j] /= outer;
    f32(backend, out).set(acc);
    return out;
  }
  // Large (conv biases' gradients): on our native kernels, on every thread, where loaded.
  const native = nativeColumnSums(backend, x, inner);
  if (native !== null) {
    const out = backend.makeOutput(shape, 'float32');
    if (kernelName === tf.Mean) for (let j = 0; j < inner; j++) native[j] /= outer;
    f32(backend, out).set(native);
    return out;
  }
  // Else the mean over one pooling window that covers all the leading axes
  // (XNNPACK average pooling, ~10x faster than WASM's transpose-then-sum here, and more accurate),
  // times the window's size. WASM caches one pooling operator per window shape, for good.
  const windowWidth = x.shape[axes.length - 1];
  const windowHeight = outer / windowWidth;
  const out = run(
    'AvgPool',
    backend,
    { x: view(x, [1, windowHeight, windowWidth, inner]) },
    { filterSize: [windowHeight, windowWidth], strides: [1, 1], pad: 'valid' },
  );
  if (kernelName === tf.Sum) {
    const values = f32(backend, out);
    for (let i = 0; i < values.length; i++) values[i] *= outer;
  }
  out.shape = shape;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Add, Relu

/** A convolution's bias in training (native/biasReluKernels.ts), on every thread; other sums as shipped. */
export function add(args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  return nativeBiasAdd(args.backend as BackendWasm, a, b) ?? callOriginal(BACKEND, tf.Add, args);
}

/** ReLU on every thread for large tensors (native/biasReluKernels.ts); small ones as shipped. */
export function relu(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  return nativeRelu(args.backend as BackendWasm, x) ?? callOriginal(BACKEND, tf.Relu, args);
}

// ---------------------------------------------------------------------------------------------
// Identity

/**
 * The engine clones every tensor it saves for the backward pass (the output of each conv, ReLU,
 * pool...), and WASM's Identity copies the data. Tensor data is immutable, so share it and count a
 * reference instead, as the CPU and WebGL backends do.
 */
export function identity(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return callOriginal(BACKEND, tf.Identity, args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Casting to the same dtype (the ReLU gradient casts a float32 step to float32) is a copy: share. */
export function cast(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') return callOriginal(BACKEND, tf.Cast, args);
  return identity(args);
}
