/**
 * Conv2DBackpropFilter on WebGPU as a reduction split across the GPU.
 *
 * Why: tfjs' WebGPU kernel gives each filter weight one invocation, which sums over every position of
 * every image: a 2x2 first layer of 32 filters has 128 weights, so 128 invocations each sum 710,432
 * products (150 px, batch 32) while the GPU's other lanes idle. On an H200 that kernel was 97% of a
 * training step (issue 22).
 * Here the n·outHeight output rows are cut into runs (reductions.ts); pass 1 has one invocation per
 * (run, weight), each summing its run of rows (runs × weights invocations, about 65,536, share the
 * work), and pass 2 one invocation per weight, summing its runs' partial sums in order.
 * Any stride and padding, channels last, dilation 1; anything else goes to tfjs' kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { callOriginal } from '../kernelOverrides';
import { nhwcConvInfo, type FilterGradAttrs } from '../convAttrs';
import { int32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';
import { splitRows, sumRuns } from './reductions';

export const BACKEND = 'webgpu';

/** Pass 1: one partial sum per (run of output rows, filter weight); the filter's width is baked in. */
function partialsProgram(filterWidth: number, outputShape: number[]) {
  return {
    key: `filterGradPartials_${filterWidth}`,
    inputs: ['x', 'dy'],
    outputShape,
    uniforms: 'weights : i32, rowsPerRun : i32, strides : vec2<i32>, pads : vec2<i32>,',
    body: `
      let k = index % uniforms.weights;
      let run = index / uniforms.weights;
      let ci = uniforms.xShape[3];
      let co = uniforms.dyShape[3];
      let o = k % co;
      let i = (k / co) % ci;
      let fc = (k / (co * ci)) % ${filterWidth};
      let fr = k / (co * ci * ${filterWidth});
      let outH = uniforms.dyShape[1];
      let outW = uniforms.dyShape[2];
      let inH = uniforms.xShape[1];
      let inW = uniforms.xShape[2];
      let first = run * uniforms.rowsPerRun;
      let last = min(first + uniforms.rowsPerRun, uniforms.dyShape[0] * outH);
      var total = 0.0;
      for (var row = first; row < last; row++) {
        let b = row / outH;
        let yr = row - b * outH;
        let xr = yr * uniforms.strides.x + fr - uniforms.pads.x;
        if (xr < 0 || xr >= inH) { continue; }
        let xRow = (b * inH + xr) * inW;
        let dyRow = row * outW;
        for (var yc = 0; yc < outW; yc++) {
          let xc = yc * uniforms.strides.y + fc - uniforms.pads.y;
          if (xc < 0 || xc >= inW) { continue; }
          total += x[(xRow + xc) * ci + i] * dy[(dyRow + yc) * co + o];
        }
      }
      result[index] = total;`,
  };
}

/** Conv2DBackpropFilter: x [n, h, w, ci] and dy [n, oh, ow, co] to the filter's gradient [kh, kw, ci, co]. */
export function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: unknown;
  attrs: FilterGradAttrs;
}): TensorInfo {
  const { inputs, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return callOriginal(BACKEND, tf.Conv2DBackpropFilter, args);
  }
  const backend = args.backend as WebgpuBackendLike;
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const [kh, kw, ci, co] = attrs.filterShape;
  const weights = kh * kw * ci * co;
  const { runs, rowsPerRun } = splitRows(info.batchSize * info.outHeight, weights);
  const uniforms = [
    int32(weights),
    int32(rowsPerRun),
    int32(info.strideHeight, info.strideWidth),
    int32(info.padInfo.top, info.padInfo.left),
  ];
  const partials = runFlat(backend, partialsProgram(kw, [runs, weights]), [x, dy], uniforms);
  const total = sumRuns(backend, partials, attrs.filterShape);
  backend.disposeData(partials.dataId);
  return total;
}
