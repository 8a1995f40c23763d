/**
 * Training kernels for the TensorFlow.js WASM backend.
 *
 * tfjs-backend-wasm 4.22 cannot train a CNN as shipped: it has no Conv2DBackpropFilter kernel,
 * and its Conv2DBackpropInput and MaxPoolGrad kernels are scalar loops, several times slower than
 * the forward pass. This module registers, for the 'wasm' backend only, kernels built on what
 * WASM does fast (XNNPACK convolution, fully-connected and pooling; 2-D transposes) plus single
 * passes over the WASM heap where no such kernel fits:
 *
 * - Conv2DBackpropFilter (missing):
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−top, ow·s+kw−left, ci] · dy[n,oh,ow,co]
 *   is a convolution of the input transposed to [ci, h, w, n] (the batch becomes the channels
 *   summed over) with the output gradient transposed to [oh, ow, n, co] as the filter, dilated by
 *   the stride. When the input has few channels (the first layer: 2·2·1 = 4 im2col rows) it is
 *   dy^T times an im2col matrix instead (XNNPACK fully-connected), ~2x faster there.
 * - Conv2DBackpropInput (replaced): dx is the 'full' convolution of dy (zeros inserted between
 *   its pixels when the stride is > 1) with the filter flipped in space and its in/out channels
 *   swapped, run by WASM's Conv2D with explicit padding (~10x faster than the shipped kernel).
 *   Paddings wider than the filter and NCHW go to the shipped kernel.
 * - MaxPoolGrad (replaced): one pass over the input that routes each window's gradient to its
 *   first maximum in row-major order, exactly like the tfjs CPU (and WebGL) kernels do on ties;
 *   for 2x2 stride-2 unpadded pooling it finds that maximum by comparing with the forward output.
 *   The shipped kernel is not even used as a fallback: it searches from FLT_MIN with '>=', so it
 *   gives tied gradients to the last maximum and misroutes the gradient of windows whose values
 *   are all ≤ 1.2e-38 (all negative, say).
 * - FusedBatchNorm (replaced for NHWC input with per-channel statistics): x − mean (WASM's Sub), then a
 *   1×1 depthwise convolution by scale / sqrt(variance + eps) with the offset as its bias, two XNNPACK
 *   passes instead of the shipped kernel's square root and division per element (~4x faster at 150 px).
 * - Sum (replaced when reducing leading axes, e.g. a bias gradient summed over batch, rows and
 *   columns): XNNPACK average pooling over one window covering those axes, times its size (or a
 *   float64 column sum when small), instead of WASM's slow 4-D transpose and innermost reduction.
 *   Mean likewise (BatchNormalization's batch statistics). Other reductions go to the shipped kernels.
 * - Identity, and Cast to the same dtype (replaced): share the data and count a reference, as the
 *   CPU and WebGL backends do, instead of copying it. The engine clones every tensor it saves for
 *   the backward pass, and the ReLU gradient casts float32 to float32.
 *
 * Register after `@tensorflow/tfjs-backend-wasm` has been imported (it registers its kernels on
 * import and would overwrite these); before or after `tf.setBackend('wasm')` both work.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nhwcConvInfo, type FilterGradAttrs, type InputGradAttrs } from './convAttrs';
import { areOverriding, callOriginal, overrideKernels, restoreKernels, type KernelOverride } from './kernelOverrides';
import { maxPoolGradAnyWindow, poolInfoOf, type MaxPoolGradAttrs } from './maxPoolGrad';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = 'wasm';

/**
 * At most this many rows in the im2col matrix (filter height × width × input channels) and the
 * filter gradient is a matrix product; above, a convolution. XNNPACK packs the right operand of a
 * product anew for every new tensor, slowly (~4 ns a float), so that operand must stay thin.
 * Measured at 150 px, batch 32: the first layer (4 rows) takes 41 ms as a product, ~85 ms as a
 * convolution; the second (128 rows) 67 ms as a convolution, over 100 ms as a product.
 */
const MAX_IM2COL_ROWS = 8;

/** Sums of at least this many elements over leading axes go through XNNPACK average pooling. */
const MIN_POOLED_SUM = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Plumbing

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** Runs another WASM kernel directly (no engine, no tape): the caller disposes what it returns. */
function run(name: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  if (kernel === undefined) throw new Error(`The WASM backend has no '${name}' kernel.`);
  const out = kernel.kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs });
  if (Array.isArray(out)) throw new Error(`Kernel '${name}' returned several tensors.`);
  return out;
}

/** A second look at the same data with another shape; never disposed, never returned. */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

function dispose(backend: BackendWasm, ...infos: (TensorInfo | null)[]): void {
  for (const info of infos) if (info !== null) backend.disposeData(info.dataId);
}

function f32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter


function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as FilterGradAttrs;
  let { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const owned: TensorInfo[] = [];
  try {
    if (attrs.dataFormat === 'NCHW') {
      x = run('Transpose', backend, { x }, { perm: [0, 2, 3, 1] });
      owned.push(x);
      dy = run('Transpose', backend, { x: dy }, { perm: [0, 2, 3, 1] });
      owned.push(dy);
    }
    const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
    const rows = info.filterHeight * info.filterWidth * info.inChannels;
    return rows <= MAX_IM2COL_ROWS ? filterGradByMatMul(backend, x, dy, info) : filterGradByConv(backend, x, dy, info);
  } finally {
    dispose(backend, ...owned);
  }
}

/**
 * x [n, h, w, c] -> [c, h, w, n]. WASM's generic 4-D transpose is slow when the innermost axis
 * moves (~4x here); a 2-D transpose and a transpose that keeps the innermost axis are fast.
 */
function transposeToChannelsFirstBatchLast(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const [n, h, w, c] = x.shape;
  if (c === 1 || n === 1) return run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
  const hwcn = run('Transpose', backend, { x: view(x, [n, h * w * c]) }, { perm: [1, 0] });
  try {
    const out = run('Transpose', backend, { x: view(hwcn, [h * w, c, n]) }, { perm: [1, 0, 2] });
    out.shape = [c, h, w, n];
    return out;
  } finally {
    dispose(backend, hwcn);
  }
}

/** dW as a convolution of x^T [ci,h,w,n] with dy^T [oh,ow,n,co] (dilated by the stride). */
function filterGradByConv(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight, filterWidth, inChannels, outChannels, strideHeight, strideWidth, padInfo } = info;
  let xT: TensorInfo | null = null;
  let dyT: TensorInfo | null = null;
  let conv: TensorInfo | null = null;
  let cropped: TensorInfo | null = null;
  try {
    xT = transposeToChannelsFirstBatchLast(backend, x);
    dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
    const pad: ExplicitPadding = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    conv = run(
      'Conv2D',
      backend,
      { x: xT, filter: dyT },
      { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth] },
    );
    // [ci, kh', kw', co]: with a stride > 1 the last rows and columns may lie past the filter.
    let grad = conv;
    if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
      cropped = run('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] });
      grad = cropped;
    }
    return run('Transpose', backend, { x: grad }, { perm: [1, 2, 0, 3] });
  } finally {
    dispose(backend, xT, dyT, conv, cropped);
  }
}

/**
 * dW^T [co, kh·kw·ci] = dy^T [co, n·oh·ow] times im2col [n·oh·ow, kh·kw·ci] (XNNPACK
 * fully-connected), transposed back. XNNPACK re-packs its right operand ("weights") on every new
 * tensor, slowly, so the huge dy goes on the left (one fast 2-D transpose) and the thin im2col
 * matrix on the right.
 */
function filterGradByMatMul(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const rows = filterHeight * filterWidth * inChannels;
  const positions = batchSize * outHeight * outWidth;
  let dyT: TensorInfo | null = null;
  let cols: TensorInfo | null = null;
  let product: TensorInfo | null = null;
  try {
    dyT = run('Transpose', backend, { x: view(dy, [positions, outChannels]) }, { perm: [1, 0] });
    cols = backend.makeOutput([positions, rows], 'float32');
    fillIm2col(f32(backend, cols), f32(backend, x), info);
    product = run(
      'BatchMatMul',
      backend,
      { a: view(dyT, [1, outChannels, positions]), b: view(cols, [1, positions, rows]) },
      { transposeA: false, transposeB: false },
    );
    const grad = run('Transpose', backend, { x: view(product, [outChannels, rows]) }, { perm: [1, 0] });
    grad.shape = [filterHeight, filterWidth, inChannels, outChannels];
    return grad;
  } finally {
    dispose(backend, dyT, cols, product);
  }
}

/** cols[p, (kh·kw_size + kw)·ci_size + ci] = x at output position p shifted by (kh, kw), 0 in the padding. */
function fillIm2col(cols: Float32Array, xs: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rows = filterHeight * filterWidth * inChannels;
  let o = 0;
  const inside = top === 0 && left === 0 && (outHeight - 1) * sh + filterHeight <= inHeight && (outWidth - 1) * sw + filterWidth <= inWidth;
  if (inside) {
    // No padding reached ('valid'): every window lies in the image, at fixed offsets from its corner.
    const offsets = new Int32Array(rows);
    for (let kh = 0, j = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        for (let ci = 0; ci < inChannels; ci++, j++) offsets[j] = (kh * inWidth + kw) * inChannels + ci;
      }
    }
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        let corner = (n * inHeight + oh * sh) * inWidth * inChannels;
        for (let ow = 0; ow < outWidth; ow++, corner += sw * inChannels) {
          for (let j = 0; j < rows; j++) cols[o++] = xs[corner + offsets[j]];
        }
      }
    }
    return;
  }
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * sh + kh - top;
          const rowInside = ih >= 0 && ih < inHeight;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * sw + kw - left;
            if (rowInside && iw >= 0 && iw < inWidth) {
              const from = ((n * inHeight + ih) * inWidth + iw) * inChannels;
              for (let ci = 0; ci < inChannels; ci++) cols[o++] = xs[from + ci];
            } else {
              for (let ci = 0; ci < inChannels; ci++) cols[o++] = 0;
            }
          }
        }
      }
    }
  }
}

/**
 * The filter gradient as a direct loop over the WASM heap (the CPU backend's algorithm). Slow, but
 * the obvious way to fill the gap; kept as the baseline of the benchmark and a reference in tests.
 */
function conv2DBackpropFilterNaive(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as FilterGradAttrs;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  if (attrs.dataFormat === 'NCHW') throw new Error('The naive WASM filter gradient supports NHWC only.');
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const k = (kh * filterWidth + kw) * inChannels;
      for (let n = 0; n < batchSize; n++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * info.strideHeight + kh - info.padInfo.top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let ow = 0; ow < outWidth; ow++) {
            const iw = ow * info.strideWidth + kw - info.padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            const xo = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const dyo = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = xs[xo + ci];
              const ko = (k + ci) * outChannels;
              for (let co = 0; co < outChannels; co++) acc[ko + co] += xv * dys[dyo + co];
            }
          }
        }
      }
    }
  }
  f32(backend, out).set(acc);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput


function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as InputGradAttrs;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return callOriginal(BACKEND, tf.Conv2DBackpropInput, args);
  }
  const info = nhwcConvInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  // dy with zeros between its pixels spans (out - 1) · stride + 1; the 'full' convolution pads it
  // so that every input pixel sees every filter tap that touched it in the forward pass.
  const dilatedHeight = (outHeight - 1) * sh + 1;
  const dilatedWidth = (outWidth - 1) * sw + 1;
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  const bottom = inHeight + padInfo.top - dilatedHeight;
  const right = inWidth + padInfo.left - dilatedWidth;
  if (top < 0 || left < 0 || bottom < 0 || right < 0 || outHeight <= 0 || outWidth <= 0) {
    return callOriginal(BACKEND, tf.Conv2DBackpropInput, args);
  }

  let flipped: TensorInfo | null = null;
  let dilated: TensorInfo | null = null;
  try {
    // filter [kh, kw, ci, co] -> [kh, kw, co, ci], flipped in both spatial axes.
    flipped = backend.makeOutput([kh, kw, outChannels, inChannels], 'float32');
    const w = f32(backend, filter);
    const wf = f32(backend, flipped);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * inChannels * outChannels;
        const dst = (i * kw + j) * outChannels * inChannels;
        for (let ci = 0; ci < inChannels; ci++) {
          for (let co = 0; co < outChannels; co++) wf[dst + co * inChannels + ci] = w[src + ci * outChannels + co];
        }
      }
    }
    let source = dy;
    if (sh > 1 || sw > 1) {
      dilated = backend.makeOutput([batchSize, dilatedHeight, dilatedWidth, outChannels], 'float32');
      const d = f32(backend, dilated);
      const g = f32(backend, dy);
      d.fill(0);
      for (let n = 0; n < batchSize; n++) {
        for (let oh = 0; oh < outHeight; oh++) {
          for (let ow = 0; ow < outWidth; ow++) {
            const from = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            const to = ((n * dilatedHeight + oh * sh) * dilatedWidth + ow * sw) * outChannels;
            d.set(g.subarray(from, from + outChannels), to);
          }
        }
      }
      source = dilated;
    }
    const pad: ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return run(
      'Conv2D',
      backend,
      { x: source, filter: flipped },
      { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
    );
  } finally {
    dispose(backend, flipped, dilated);
  }
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad

function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  const { dy, input, output } = args.inputs as { dy: TensorInfo; input: TensorInfo; output?: TensorInfo };
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) {
    return callOriginal(BACKEND, tf.MaxPoolGrad, args);
  }
  const info = poolInfoOf(input.shape, attrs);
  const { padInfo, filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const fast2x2 =
    fh === 2 &&
    fw === 2 &&
    sh === 2 &&
    sw === 2 &&
    padInfo.top === 0 &&
    padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth &&
    output !== undefined &&
    output.dtype === 'float32' &&
    tf.util.arraysEqual(output.shape, dy.shape);
  const dx = backend.makeOutput([...input.shape], 'float32');
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
function maxPoolGrad2x2(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
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
function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, mean, variance, offset, scale } = args.inputs as { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const channels = x.shape.length === 4 ? x.shape[3] : 0;
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && t.shape.length >= 1 && t.shape[t.shape.length - 1] === channels && tf.util.sizeFromShape(t.shape) === channels);
  if (x.dtype !== 'float32' || channels < 1 || tf.util.sizeFromShape(x.shape) === 0 || ![mean, variance, offset, scale].every(perChannel)) {
    return callOriginal(BACKEND, tf.FusedBatchNorm, args);
  }
  // Read before anything is allocated: a new tensor may grow the WASM heap and move every view of it.
  const v = f32(backend, variance);
  const s = scale ? f32(backend, scale) : null;
  const factors = new Float32Array(channels);
  for (let c = 0; c < channels; c++) factors[c] = (s ? s[c] : 1) / Math.sqrt(v[c] + varianceEpsilon);
  // A rank-1 copy: the depthwise kernel reads the bias's stored shape, and the offset may be [1, 1, 1, c].
  const shifts = offset ? f32(backend, offset).slice() : null;
  const centred = run('Sub', backend, { a: x, b: view(mean, [channels]) });
  const filter = backend.makeOutput([1, 1, channels, 1], 'float32');
  const bias = shifts ? backend.makeOutput([channels], 'float32') : null;
  try {
    f32(backend, filter).set(factors);
    if (bias && shifts) f32(backend, bias).set(shifts);
    const inputs: tf.NamedTensorInfoMap = bias ? { x: centred, filter, bias } : { x: centred, filter };
    return run(tf.FusedDepthwiseConv2D, backend, inputs, { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC', activation: 'linear' });
  } finally {
    dispose(backend, centred, filter, bias);
  }
}

// ---------------------------------------------------------------------------------------------
// Sum and Mean

function sum(args: KernelArgs): TensorInfo {
  return sumOrMean(args, tf.Sum);
}

/**
 * Mean over leading axes: a BatchNormalization layer's batch statistics (each channel's mean over batch,
 * rows and columns, twice a step), which WASM's Mean computes by transposing the whole input first (the
 * costliest kernel of a BatchNorm model's step at 150 px). The same path as Sum, without the multiplication.
 */
function mean(args: KernelArgs): TensorInfo {
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
  // Large (conv biases): the mean over one pooling window that covers all the leading axes
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
// Identity

/**
 * The engine clones every tensor it saves for the backward pass (the output of each conv, ReLU,
 * pool...), and WASM's Identity copies the data. Tensor data is immutable, so share it and count a
 * reference instead, as the CPU and WebGL backends do.
 */
function identity(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return callOriginal(BACKEND, tf.Identity, args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Casting to the same dtype (the ReLU gradient casts a float32 step to float32) is a copy: share. */
function cast(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') return callOriginal(BACKEND, tf.Cast, args);
  return identity(args);
}

// ---------------------------------------------------------------------------------------------
// Registration

const FAST_KERNELS: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropFilter, kernelFunc: conv2DBackpropFilter as unknown as KernelFunc },
  { kernelName: tf.Conv2DBackpropInput, kernelFunc: conv2DBackpropInput as unknown as KernelFunc },
  { kernelName: tf.MaxPoolGrad, kernelFunc: maxPoolGrad as unknown as KernelFunc },
  { kernelName: tf.FusedBatchNorm, kernelFunc: fusedBatchNorm as unknown as KernelFunc },
  { kernelName: tf.Sum, kernelFunc: sum as unknown as KernelFunc },
  { kernelName: tf.Mean, kernelFunc: mean as unknown as KernelFunc },
  { kernelName: tf.Identity, kernelFunc: identity as unknown as KernelFunc },
  { kernelName: tf.Cast, kernelFunc: cast as unknown as KernelFunc },
];

const NAIVE_FILTER_GRAD: KernelOverride = { kernelName: tf.Conv2DBackpropFilter, kernelFunc: conv2DBackpropFilterNaive as unknown as KernelFunc };

/** Names of the kernels registerWasmTrainingKernels() installs or replaces. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = FAST_KERNELS.map((k) => k.kernelName);

function assertWasmLoaded(): void {
  if (tf.getKernel(tf.Conv2D, BACKEND) === undefined) {
    throw new Error(
      "Import '@tensorflow/tfjs-backend-wasm' before registering the WASM training kernels: it registers its own kernels when loaded and would replace these.",
    );
  }
}

/**
 * Makes the WASM backend able to train convolutions, fast: registers Conv2DBackpropFilter and
 * faster Conv2DBackpropInput, MaxPoolGrad, FusedBatchNorm, Sum and Mean kernels for 'wasm'. Idempotent. Call it after
 * `@tensorflow/tfjs-backend-wasm` has been imported (throws otherwise).
 */
export function registerWasmTrainingKernels(): void {
  assertWasmLoaded();
  overrideKernels(BACKEND, FAST_KERNELS);
}

/**
 * Only fills the gap, the obvious way: a direct-loop Conv2DBackpropFilter and the shipped kernels
 * for everything else (the benchmark's baseline). Replaces registerWasmTrainingKernels() if active.
 */
export function registerNaiveWasmFilterGradient(): void {
  assertWasmLoaded();
  unregisterWasmTrainingKernels();
  overrideKernels(BACKEND, [NAIVE_FILTER_GRAD]);
}

/** Puts back the kernels WASM shipped with (none for Conv2DBackpropFilter). */
export function unregisterWasmTrainingKernels(): void {
  restoreKernels(BACKEND, WASM_TRAINING_KERNEL_NAMES);
}

/** Which variant is registered now: 'fast', 'naive' (filter gradient only) or 'shipped'. */
export function wasmTrainingKernelsState(): 'fast' | 'naive' | 'shipped' {
  if (areOverriding(BACKEND, [NAIVE_FILTER_GRAD])) return 'naive';
  return areOverriding(BACKEND, FAST_KERNELS) ? 'fast' : 'shipped';
}
