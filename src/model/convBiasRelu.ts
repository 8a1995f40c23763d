/**
 * A stride-1 unpadded convolution with its bias and ReLU as one kernel in training too, where the backend has
 * it (the WASM backend with our native kernels: backends/native/convKernels.ts and biasReluKernels.ts), and its
 * gradient in three kernels instead of five.
 *
 * Why: tfjs-core fuses a convolution with its bias and activation only while no gradient is recorded, so in
 * training every such layer ran Conv2D, Add and Relu (three passes over its output), and its gradient ReluGrad,
 * a Sum for the bias, and the two convolution gradients. On the first layer at 64 px the output is 16 MB a
 * batch, and those extra passes were a tenth of a step. Here: forward, one pass (bias and ReLU applied to
 * each row while it is in cache); backward, the ReLU mask once, the bias gradient as its column sums, then the
 * two convolution gradients, each computed only where the tape needs it (the images need none). The mask and
 * the bias gradient are one pass (RELU_GRAD_BIAS).
 * The same mathematics: ReLU's gradient masks by its output, which is positive exactly where its input is; the bias
 * gradient is summed in float64.
 */
import * as tf from '@tensorflow/tfjs';

/** Inputs x [n, h, w, ci], filter [kh, kw, ci, co], bias [co]; output max(0, conv(x, filter) + bias). */
export const CONV_BIAS_RELU = 'ConvBiasRelu';

/** Inputs dy, y (the ReLU's output); outputs dy where y > 0 (else 0), and that summed over all but the last axis. */
export const RELU_GRAD_BIAS = 'ReluGradBias';

/** Whether the backend in use has the kernel and the one its gradient uses. */
export function hasConvBiasRelu(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(CONV_BIAS_RELU, backend) !== undefined && tf.getKernel(RELU_GRAD_BIAS, backend) !== undefined;
}

const GEOMETRY = {
  strides: [1, 1] as [number, number],
  pad: 'valid' as const,
  dataFormat: 'NHWC' as const,
  dilations: [1, 1] as [number, number],
};

let registered = false;

/** Registers the kernel's gradient, once a realm; safe to call again. */
export function registerConvBiasReluGradient(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: CONV_BIAS_RELU,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x, filter, y] = saved;
      // Shared by the three gradients: computed once, in one pass with the bias gradient (the backward pass frees
      // both at its end, as every gradient it makes).
      const [masked, biasGrad] = tf.engine().runKernel(RELU_GRAD_BIAS, { dy: dy as tf.Tensor, y }) as tf.Tensor[];
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropInput,
              { dy: masked, filter },
              { ...GEOMETRY, inputShape: x.shape },
            ) as tf.Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(
              tf.Conv2DBackpropFilter,
              { x, dy: masked },
              { ...GEOMETRY, filterShape: filter.shape },
            ) as tf.Tensor,
        bias: () => biasGrad,
      };
    },
  });
}

/** max(0, conv(x, filter) + bias), stride 1, no padding, channels last, through the fused kernel (see hasConvBiasRelu). */
export function convBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  registerConvBiasReluGradient();
  return tf.engine().runKernel(CONV_BIAS_RELU, { x, filter, bias }) as tf.Tensor4D;
}
