/**
 * The convolution gradients of the WASM training kernels (see wasmKernels.ts), built on XNNPACK:
 *
 * - Conv2DBackpropFilter (missing): for stride-1 unpadded convolutions (this app's), our SIMD kernel
 *   (native/convKernels.ts) on every thread where it is loaded; otherwise, and for other geometries:
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−top, ow·s+kw−left, ci] · dy[n,oh,ow,co]
 *   is a convolution of the input transposed to [ci, h, w, n] (the batch becomes the channels
 *   summed over) with the output gradient transposed to [oh, ow, n, co] as the filter, dilated by
 *   the stride. When the input has few channels (the first layer: 2·2·1 = 4 im2col rows) it is
 *   dy^T times an im2col matrix instead (XNNPACK fully-connected), ~2x faster there.
 * - Conv2DBackpropInput (replaced): for stride-1 unpadded convolutions, our SIMD kernel
 *   (native/convKernels.ts) where it is loaded; otherwise dx is the 'full' convolution of dy (zeros inserted between
 *   its pixels when the stride is > 1) with the filter flipped in space and its in/out channels
 *   swapped, run by WASM's Conv2D with explicit padding (~10x faster than the shipped kernel).
 *   Paddings wider than the filter and NCHW go to the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nhwcConvInfo, type FilterGradAttrs, type InputGradAttrs } from './convAttrs';
import { callOriginal } from './kernelOverrides';
import { nativeConvFilterGrad, nativeConvInputGrad } from './native/convKernels';
import { BACKEND, dispose, f32, run, view, type KernelArgs } from './wasmKernelUtil';

type TensorInfo = tf.TensorInfo;
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * At most this many rows in the im2col matrix (filter height × width × input channels) and the
 * filter gradient is a matrix product; above, a convolution. XNNPACK packs the right operand of a
 * product anew for every new tensor, slowly (~4 ns a float), so that operand must stay thin.
 * Measured at 150 px, batch 32: the first layer (4 rows) takes 41 ms as a product, ~85 ms as a
 * convolution; the second (128 rows) 67 ms as a convolution, over 100 ms as a product.
 */
const MAX_IM2COL_ROWS = 8;

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

export function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
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
    // x and dy are NHWC by now.
    const native = nativeConvFilterGrad(backend, x, dy, attrs.filterShape, { ...attrs, dataFormat: 'NHWC' });
    if (native !== null) return native;
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
function filterGradByConv(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
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
      cropped = run(
        'Slice',
        backend,
        { x: conv },
        { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
      );
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
function filterGradByMatMul(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
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
  const inside =
    top === 0 &&
    left === 0 &&
    (outHeight - 1) * sh + filterHeight <= inHeight &&
    (outWidth - 1) * sw + filterWidth <= inWidth;
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

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput

export function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as InputGradAttrs;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const native = nativeConvInputGrad(backend, dy, filter, attrs.inputShape, attrs);
  if (native !== null) return native;
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
