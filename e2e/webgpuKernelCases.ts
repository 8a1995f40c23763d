/**
 * What the WebGPU kernel checks (webgpuKernels.page.ts) compute: inputs made in JavaScript from a seed, so that both
 * backends see the very same numbers, and each computation (a kernel's outputs and gradients) as a function to run
 * on either backend.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormInTraining, hasBatchNormTrainingKernels } from '../src/model/batchNormTraining';
import { convBiasRelu, hasConvBiasRelu } from '../src/model/convBiasRelu';
import { registerReluGradient } from '../src/model/reluGradient';
import { RMSPropOptimizer } from '../src/model/rmsprop';

/** Numbers in [-1, 1) from a seed, the same on every backend. */
function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => (Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1);
}

function tensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

export type Pad = 'valid' | 'same';

/** A convolution's both gradients through tf.grads (Conv2DBackpropFilter and Conv2DBackpropInput, as in training). */
export function convGradients(xShape: number[], filterShape: number[], stride = 1, pad: Pad = 'valid') {
  return () => {
    const x = tensor(xShape, 1) as tf.Tensor4D;
    const filter = tensor(filterShape, 2) as tf.Tensor4D;
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
      return tf.sum(tf.mul(y, tensor(y.shape, 3)));
    };
    const [dx, dfilter] = tf.grads(loss)([x, filter]);
    return { dx, dfilter };
  };
}

/** The filter gradient kernel called directly, with dy given. */
type Shape4 = [number, number, number, number];

export function filterGradient(xShape: number[], filterShape: Shape4, stride = 1, pad: Pad = 'valid') {
  return () => {
    const x = tensor(xShape, 4) as tf.Tensor4D;
    const out = tf.conv2d(x, tf.zeros(filterShape) as tf.Tensor4D, stride, pad);
    const dy = tensor(out.shape, 5) as tf.Tensor4D;
    const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape };
    return { dfilter: tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor };
  };
}

/**
 * BatchNormalization in training, with or without its ReLU: our two kernels on WebGPU, tfjs' moments and batchNorm
 * on the cpu backend (which has no such kernels). Outputs, statistics and the gradients of x, scale and offset.
 */
export function batchNorm(xShape: number[], relu: boolean) {
  return () => {
    const c = xShape[xShape.length - 1];
    const x = tf.add(tf.mul(tensor(xShape, 6), 3), 0.5);
    const [scale, offset] = [tf.add(tensor([c], 7), 1.5), tensor([c], 8)];
    const weights = tensor(xShape, 9);
    const eps = 1e-3;
    const normalise = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (hasBatchNormTrainingKernels()) return batchNormInTraining(a, g, b, eps, relu);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      const y = tf.batchNorm(a, mean, variance, b, g, eps);
      return { y: relu ? tf.relu(y) : y, mean, variance };
    };
    const { y, mean, variance } = normalise(x, scale, offset);
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(normalise(a, g, b).y, weights));
    const [dx, dscale, doffset] = tf.grads(loss)([x, scale, offset]);
    return { y, mean, variance, dx, dscale, doffset };
  };
}

/** A stride-1 unpadded convolution with bias and ReLU: the fused op on WebGPU, conv2d + add + relu on the cpu. */
export function convBiasReluGradients(xShape: number[], filterShape: number[]) {
  return () => {
    const x = tensor(xShape, 10) as tf.Tensor4D;
    const filter = tensor(filterShape, 11) as tf.Tensor4D;
    const bias = tf.mul(tensor([filterShape[3]], 12), 0.3) as tf.Tensor1D;
    const layer = (a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
      hasConvBiasRelu()
        ? convBiasRelu(a as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D)
        : tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'), b));
    const y = layer(x, filter, bias);
    const weights = tensor(y.shape, 13);
    const [dx, dfilter, dbias] = tf.grads((a, f, b) => tf.sum(tf.mul(layer(a, f, b), weights)))([x, filter, bias]);
    return { y, dx, dfilter, dbias };
  };
}

/** ReLU's gradient (ReluGrad on WebGPU; tfjs' step and multiply on the cpu). */
export function reluGradient(shape: number[]) {
  return () => {
    registerReluGradient();
    const x = tensor(shape, 14);
    const weights = tensor(shape, 15);
    const [dx] = tf.grads((a) => tf.sum(tf.mul(tf.relu(a), weights)))([x]);
    return { dx };
  };
}

/**
 * Three steps of the app's RMSprop (with momentum, so that every state moves) on variables of `shapes`: the
 * RMSPropUpdate kernel on WebGPU, tfjs' element-wise ops on the cpu. The values and both states after them.
 */
export function rmspropSteps(shapes: number[][]) {
  return () => {
    const variables = shapes.map((shape, i) => tf.variable(tensor(shape, 20 + i), true, `rmsprop_check_${i}`));
    const optimizer = new RMSPropOptimizer(0.01, 0.9, 0.5, 1e-7);
    for (let step = 0; step < 3; step++) {
      const grad = (v: tf.Variable, i: number) => tf.mul(tensor(v.shape, 30 + 10 * step + i), step + 1);
      const grads = Object.fromEntries(variables.map((v, i) => [v.name, grad(v, i)]));
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
    }
    const outputs: Record<string, tf.Tensor> = {};
    variables.forEach((v, i) => (outputs[`value ${i}`] = v.clone()));
    type Slots = Record<'accumulatedMeanSquares' | 'accumulatedMoments', { variable: tf.Variable }[]>;
    const slots = optimizer as unknown as Slots;
    slots.accumulatedMeanSquares.forEach((s, i) => (outputs[`mean square ${i}`] = s.variable.clone()));
    slots.accumulatedMoments.forEach((s, i) => (outputs[`moment ${i}`] = s.variable.clone()));
    tf.dispose(variables);
    optimizer.dispose();
    return outputs;
  };
}

/**
 * Max pooling and its gradient through tf.grads. `ties`: values rounded to few levels, so that windows hold equal
 * maxima and the gradient must go where tfjs sends it (the first largest).
 */
export function maxPoolGradients(xShape: number[], filter: number, stride: number, pad: Pad, ties: boolean) {
  return () => {
    const x = ties ? tf.round(tf.mul(tensor(xShape, 16), 2)) : tensor(xShape, 16);
    const pooled = tf.maxPool(x as tf.Tensor4D, filter, stride, pad);
    const weights = tensor(pooled.shape, 17);
    const [dx] = tf.grads((a) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, filter, stride, pad), weights)))([x]);
    return { pooled, dx };
  };
}
