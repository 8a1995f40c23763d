/**
 * The ReLU gradient through one kernel where the backend has it (the WASM backend with our native
 * kernels: one pass, on every thread), else as tfjs-core ships it: dy · step(x), two full-size passes.
 */
import * as tf from '@tensorflow/tfjs';

/** Inputs dy, x (the ReLU's input); output dy where x > 0, else 0. */
export const RELU_GRAD = 'ReluGrad';

let registered = false;

/** Replaces the Relu gradient, once a realm; safe to call again. */
export function registerReluGradient(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const grad = dy as tf.Tensor;
      return {
        x: () =>
          x.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined
            ? (tf.engine().runKernel(RELU_GRAD, { dy: grad, x }) as tf.Tensor)
            : tf.mul(grad, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}
