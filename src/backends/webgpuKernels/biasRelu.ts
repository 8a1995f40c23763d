/**
 * The fused convolution of model/convBiasRelu.ts on WebGPU, and the ReLU gradients:
 *   ConvBiasRelu   conv(x, filter) + bias, then max(0, ·), in one pass: tfjs-backend-webgpu's own FusedConv2D
 *                  program with its bias and ReLU (tfjs fuses them only while no gradient is recorded).
 *   ReluGradBias   dy where the ReLU's output is positive, and that summed a channel (the bias gradient) as a
 *                  two-pass reduction (reductions.ts).
 *   ReluGrad       dy where the ReLU's input is positive, one pass (tfjs: step, cast, multiply).
 */
import * as tf from '@tensorflow/tfjs';
import { runFlat, type TensorInfo, type WebgpuBackendLike } from './program';
import { channelSums } from './reductions';
import { BACKEND } from './convFilterGrad';

interface Args<I> {
  inputs: I;
  backend: unknown;
}

/** ConvBiasRelu: inputs x [n, h, w, ci], filter [kh, kw, ci, co], bias [co]; stride 1, no padding. */
export function convBiasRelu(args: Args<{ x: TensorInfo; filter: TensorInfo; bias: TensorInfo }>): TensorInfo {
  const fused = tf.getKernel(tf.FusedConv2D, BACKEND);
  if (!fused) throw new Error('The WebGPU backend has no FusedConv2D kernel.');
  const attrs = {
    strides: [1, 1],
    pad: 'valid',
    dataFormat: 'NHWC',
    dilations: [1, 1],
    activation: 'relu',
    leakyreluAlpha: 0,
  };
  return fused.kernelFunc({ inputs: args.inputs, backend: args.backend as tf.KernelBackend, attrs }) as TensorInfo;
}

/** dy masked where `mask` (y or x, of dy's shape) is not positive. */
function masked(backend: WebgpuBackendLike, dy: TensorInfo, mask: TensorInfo): TensorInfo {
  const program = {
    key: 'reluMask',
    inputs: ['dy', 'mask'],
    outputShape: [...dy.shape],
    body: 'result[index] = select(0.0, dy[index], mask[index] > 0.0);',
  };
  return runFlat(backend, program, [dy, mask]);
}

/**
 * ReluGradBias: inputs dy, y (the ReLU's output); outputs dy where y > 0,
 * and that summed over all but the last axis. */
export function reluGradBias(args: Args<{ dy: TensorInfo; y: TensorInfo }>): TensorInfo[] {
  const backend = args.backend as WebgpuBackendLike;
  const { dy, y } = args.inputs;
  const grad = masked(backend, dy, y);
  const c = y.shape[y.shape.length - 1];
  const biasGrad = channelSums(backend, { key: 'reluGradBias', inputs: ['grad'], terms: ['grad[e]'] }, [grad], [c]);
  return [grad, biasGrad];
}

/** ReluGrad: inputs dy, x (the ReLU's input); output dy where x > 0. */
export function reluGrad(args: Args<{ dy: TensorInfo; x: TensorInfo }>): TensorInfo {
  return masked(args.backend as WebgpuBackendLike, args.inputs.dy, args.inputs.x);
}
