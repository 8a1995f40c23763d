/**
 * Sum for the WebGL backend where it sums every axis of an NHWC tensor but the channels: a convolution's bias
 * gradient (tfjs' Add gradient sums dy over [0, 1, 2]). tfjs' Sum transposes the whole tensor first, then sums
 * each channel in one fragment's loop over n·h·w; here it is the split reduction of webglReduce.ts. Every other
 * Sum goes to the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { callOriginal } from './kernelOverrides';
import { BACKEND, ChannelSumsProgram, foldRows, nhwcFloat, reshaped, type WebglKernelArgs } from './webglReduce';

/** Whether `axis` names exactly the first three axes of a rank-4 tensor (negative axes counted from the end). */
function sumsAllButChannels(axis: number | number[]): boolean {
  const axes = new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + 4 : a)));
  return axes.size === 3 && [0, 1, 2].every((a) => axes.has(a));
}

/** Sum: input x; attributes axis, keepDims. */
export function webglSum(args: WebglKernelArgs): tf.TensorInfo {
  const backend = args.backend as MathBackendWebGL;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const shape = nhwcFloat(x);
  if (shape === null || !sumsAllButChannels(axis)) return callOriginal(BACKEND, tf.Sum, args);
  const c = shape[3];
  const totals = foldRows(
    backend,
    backend.runWebGLProgram(new ChannelSumsProgram(['x'], shape, '', 'getX(b, r, col, ch)'), [x], 'float32'),
  );
  return reshaped(totals, keepDims ? [1, 1, 1, c] : [c]);
}
