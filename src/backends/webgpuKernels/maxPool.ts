/**
 * The models' 2x2 max pool (stride 2, no padding, channels last) on WebGPU, forward and backward in one pass each.
 * tfjs' backward pass first writes every window's argmax position (a pass of its own, and a tensor as large as the
 * pooled output), then has each input element look through the windows that may hold it. Here each input element
 * finds its one window, picks that window's maximum as tfjs does (the first largest, row by row), and takes the
 * window's gradient when it is that maximum. Other pools go to tfjs' kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { callOriginal } from '../kernelOverrides';
import { BACKEND } from './convFilterGrad';
import { runFlat, type TensorInfo, type WebgpuBackendLike } from './program';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: unknown;
  dimRoundingMode?: string;
}

const isTwo = (value: number | [number, number]) =>
  Array.isArray(value) ? value[0] === 2 && value[1] === 2 : value === 2;
const covered = (x: TensorInfo, attrs: PoolAttrs) =>
  x.dtype === 'float32' &&
  x.shape.length === 4 &&
  isTwo(attrs.filterSize) &&
  isTwo(attrs.strides) &&
  attrs.pad === 'valid' &&
  attrs.dimRoundingMode == null;

/** The window's four values of input `x` at output position (b, wr, wc, ch), as WGSL: v0..v3 row by row. */
const WINDOW = `
  let inH = uniforms.xShape[1];
  let inW = uniforms.xShape[2];
  let c = uniforms.xShape[3];
  let corner = ((b * inH + 2 * wr) * inW + 2 * wc) * c + ch;
  let v0 = x[corner];
  let v1 = x[corner + c];
  let v2 = x[corner + inW * c];
  let v3 = x[corner + inW * c + c];`;

/** MaxPool: x [n, h, w, c] to [n, floor(h/2), floor(w/2), c]. */
export function maxPool(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: PoolAttrs }): TensorInfo {
  const { x } = args.inputs;
  if (!covered(x, args.attrs)) return callOriginal(BACKEND, tf.MaxPool, args);
  const [n, h, w, c] = x.shape;
  const program = {
    key: 'maxPool2x2',
    inputs: ['x'],
    outputShape: [n, Math.floor(h / 2), Math.floor(w / 2), c],
    body: `
      let outH = uniforms.outShape[1];
      let outW = uniforms.outShape[2];
      let ch = index % uniforms.outShape[3];
      let pixel = index / uniforms.outShape[3];
      let wc = pixel % outW;
      let wr = (pixel / outW) % outH;
      let b = pixel / (outW * outH);
      ${WINDOW}
      result[index] = max(max(v0, v1), max(v2, v3));`,
  };
  return runFlat(args.backend as WebgpuBackendLike, program, [x]);
}

/** MaxPoolGrad: inputs dy (pooled shape), input x, output y; the gradient of x. */
export function maxPoolGrad(args: {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  backend: unknown;
  attrs: PoolAttrs;
}): TensorInfo {
  const { dy, input } = args.inputs;
  if (!covered(input, args.attrs)) return callOriginal(BACKEND, tf.MaxPoolGrad, args);
  const program = {
    key: 'maxPool2x2Grad',
    inputs: ['dy', 'x'],
    outputShape: [...input.shape],
    body: `
      let ch = index % uniforms.xShape[3];
      let pixel = index / uniforms.xShape[3];
      let col = pixel % uniforms.xShape[2];
      let row = (pixel / uniforms.xShape[2]) % uniforms.xShape[1];
      let b = pixel / (uniforms.xShape[2] * uniforms.xShape[1]);
      let wr = row / 2;
      let wc = col / 2;
      var grad = 0.0;
      if (wr < uniforms.dyShape[1] && wc < uniforms.dyShape[2]) {
        ${WINDOW}
        // tfjs' choice: the first largest value, row by row (a later one must be strictly larger).
        var best = 0;
        var top = v0;
        if (v1 > top) { best = 1; top = v1; }
        if (v2 > top) { best = 2; top = v2; }
        if (v3 > top) { best = 3; top = v3; }
        if (best == (row - 2 * wr) * 2 + (col - 2 * wc)) {
          grad = dy[((b * uniforms.dyShape[1] + wr) * uniforms.dyShape[2] + wc) * c + ch];
        }
      }
      result[index] = grad;`,
  };
  return runFlat(args.backend as WebgpuBackendLike, program, [dy, input]);
}
