/**
 * The WebGPU kernels of ours, put in through the one override registry (kernelOverrides.ts) in place of
 * those tfjs-backend-webgpu ships. Each covers the cases the app's training step runs and hands the rest
 * to the shipped kernel. Register after '@tensorflow/tfjs-backend-webgpu' has been imported (its import
 * registers its kernels); webgpu.ts does, right after loading the package.
 */
import * as tf from '@tensorflow/tfjs';
import { areOverriding, overrideKernels, restoreKernels, type KernelOverride } from '../kernelOverrides';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../../model/batchNormTraining';
import { CONV_BIAS_RELU, RELU_GRAD_BIAS } from '../../model/convBiasRelu';
import { RELU_GRAD } from '../../model/reluGradient';
import { RMSPROP_UPDATE } from '../../model/rmsprop';
import { batchNormTraining, batchNormTrainingGrad } from './batchNormKernels';
import { convBiasRelu, reluGrad, reluGradBias } from './biasRelu';
import { BACKEND, conv2DBackpropFilter } from './convFilterGrad';
import { maxPool, maxPoolGrad } from './maxPool';
import { rmspropUpdate } from './rmsprop';

const KERNELS: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropFilter, kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { kernelName: tf.MaxPool, kernelFunc: maxPool as unknown as tf.KernelFunc },
  { kernelName: tf.MaxPoolGrad, kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
  // Kernels the app's own ops ask for (model/), which tfjs' WebGPU backend lacks: with them in, the models run
  // BatchNormalization, a convolution's bias and ReLU, and their gradients through these (see each op's file).
  { kernelName: BATCH_NORM_TRAINING, kernelFunc: batchNormTraining as unknown as tf.KernelFunc },
  { kernelName: BATCH_NORM_TRAINING_GRAD, kernelFunc: batchNormTrainingGrad as unknown as tf.KernelFunc },
  { kernelName: CONV_BIAS_RELU, kernelFunc: convBiasRelu as unknown as tf.KernelFunc },
  { kernelName: RELU_GRAD_BIAS, kernelFunc: reluGradBias as unknown as tf.KernelFunc },
  { kernelName: RELU_GRAD, kernelFunc: reluGrad as unknown as tf.KernelFunc },
  { kernelName: RMSPROP_UPDATE, kernelFunc: rmspropUpdate as unknown as tf.KernelFunc },
];

/** Names of the kernels registerWebgpuTrainingKernels() puts in. */
export const WEBGPU_TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);

/** Puts our WebGPU kernels in place; idempotent. Throws when the WebGPU backend's package is not loaded. */
export function registerWebgpuTrainingKernels(): void {
  if (tf.getKernel(tf.Conv2D, BACKEND) === undefined) {
    throw new Error(
      "Import '@tensorflow/tfjs-backend-webgpu' before registering our WebGPU kernels: its import registers its own.",
    );
  }
  overrideKernels(BACKEND, KERNELS);
}

/** Puts back the kernels tfjs-backend-webgpu shipped with (for comparisons and benchmarks). */
export function unregisterWebgpuTrainingKernels(): void {
  restoreKernels(BACKEND, WEBGPU_TRAINING_KERNEL_NAMES);
}

/** Whether every one of our WebGPU kernels is the one registered now. */
export function areWebgpuTrainingKernelsRegistered(): boolean {
  return areOverriding(BACKEND, KERNELS);
}
