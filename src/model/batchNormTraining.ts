/**
 * BatchNormalization in training as two kernels, where the backend has them (the WASM backend with
 * our native kernels: backends/native/batchNormKernels.ts), instead of the chain tfjs-layers builds.
 *
 * Why: tfjs-layers normalises a training batch with tf.moments and tf.batchNorm, and differentiates
 * that chain op by op: some twenty passes over a [n, h, w, c] tensor each step, a fifth of a 150 px
 * step on WASM. The same mathematics takes four passes when written for the layer as a whole:
 *   forward   mean, variance (population, as tf.moments) in one pass; y = x·k + (β − mean·k), k = γ/σ
 *   backward  Σdy and Σdy·(x − mean) in one pass; dx = k·(dy − Σdy/N − (x − mean)·Σdy·(x − mean)/(N·σ²))
 *             dγ = Σdy·(x − mean)/σ, dβ = Σdy          (σ = sqrt(variance + ε), N pixels a channel)
 * Everywhere else the layer runs as tfjs-layers ships it. The layer keeps its class name, config and
 * weights, so saved models, exports and Keras files do not change.
 */
import * as tf from '@tensorflow/tfjs';

/** Inputs x, scale, offset; attributes varianceEpsilon, relu (then y is max(0, y)). Outputs y, mean, variance ([c] each). */
export const BATCH_NORM_TRAINING = 'BatchNormTraining';
/**
 * Inputs dy, x, mean, variance, scale, and with a fused ReLU y (its output: dy counts only where y > 0); attributes
 * varianceEpsilon, relu. Outputs dx, dscale, doffset.
 */
export const BATCH_NORM_TRAINING_GRAD = 'BatchNormTrainingGrad';

/** Whether the backend in use normalises a training batch with the two kernels. */
export function hasBatchNormTrainingKernels(): boolean {
  const backend = tf.getBackend();
  return (
    tf.getKernel(BATCH_NORM_TRAINING, backend) !== undefined &&
    tf.getKernel(BATCH_NORM_TRAINING_GRAD, backend) !== undefined
  );
}

/**
 * Normalises x ([n, h, w, c], channels last) with its own per-channel statistics, differentiably in x,
 * scale and offset; with `relu`, then max(0, ·) in the same pass, and its gradient masked in the backward
 * passes (batchNormLayer.ts fuses the ReLU layer that follows). Also returns the statistics (kept: the caller
 * disposes them), for the moving averages.
 */
export function batchNormInTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  varianceEpsilon: number,
  relu = false,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const attrs = { varianceEpsilon, relu };
  let stats: tf.Tensor[] = [];
  const normalise = tf.customGrad((...args: unknown[]) => {
    const [input, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, variance] = tf
      .engine()
      .runKernel(BATCH_NORM_TRAINING, { x: input, scale: gamma, offset: beta }, attrs) as tf.Tensor[];
    // With the ReLU, its output too: the gradient flows only where it is positive.
    save(relu ? [input, mean, variance, gamma, y] : [input, mean, variance, gamma]);
    // customGrad runs this in a tidy of its own; the statistics outlive it for the moving averages.
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, m, v, g, out] = saved;
        const inputs = { dy: dy as tf.Tensor, x: xs, mean: m, variance: v, scale: g, ...(out ? { y: out } : {}) };
        return tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, inputs, attrs) as tf.Tensor[];
      },
    };
  });
  const y = normalise(x, scale, offset) as tf.Tensor;
  const [mean, variance] = stats;
  return { y, mean, variance };
}
