/**
 * Our kernels for tfjs' WebGL backend, registered through the one override registry (kernelOverrides.ts):
 * the filter gradient as a split reduction (webglConvGradients.ts, in place of the shipped kernel, which it
 * falls back to for NCHW), a convolution's bias gradient, Sum over all but the channels (webglSum.ts, the shipped
 * Sum for every other case), and BatchNormalization's two training kernels (webglBatchNorm.ts, which the shipped
 * backend lacks; with them the BatchNorm model's layers stop running tf.moments and its op-by-op gradient).
 * Why: on an NVIDIA H200 a WebGL step at 150 px spent 314 of 668 ms in Conv2DBackpropFilter and 221 ms in the
 * Sum and Mean kernels of BatchNormalization (issue 22); both sum huge axes in one fragment per output.
 *
 * Registering does not start WebGL; the kernels run only when the webgl backend does.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../model/batchNormTraining';
import { areOverriding, overrideKernels, restoreKernels, type KernelOverride } from './kernelOverrides';
import { webglBatchNormTraining, webglBatchNormTrainingGrad } from './webglBatchNorm';
import { webglConv2DBackpropFilter } from './webglConvGradients';
import { BACKEND } from './webglReduce';
import { webglSum } from './webglSum';

const KERNELS: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropFilter, kernelFunc: webglConv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAINING, kernelFunc: webglBatchNormTraining as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAINING_GRAD, kernelFunc: webglBatchNormTrainingGrad as unknown as tf.KernelFunc },
  { kernelName: tf.Sum, kernelFunc: webglSum as unknown as tf.KernelFunc },
];

/** Names of the kernels registerWebglTrainingKernels() installs or replaces. */
export const WEBGL_TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Puts our WebGL training kernels in place (idempotent). Skipped where this bundle has no WebGL backend
 * (then tfjs has no Conv2DBackpropFilter for it to replace).
 */
export function registerWebglTrainingKernels(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, BACKEND) === undefined) return;
  overrideKernels(BACKEND, KERNELS);
}

/** Back to the kernels WebGL shipped with (tests and benchmarks compare). */
export function unregisterWebglTrainingKernels(): void {
  restoreKernels(BACKEND, WEBGL_TRAINING_KERNEL_NAMES);
}

/** Whether ours are the registered WebGL kernels now. */
export function webglTrainingKernelsActive(): boolean {
  return areOverriding(BACKEND, KERNELS);
}
