import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAINING } from '../../model/batchNormTraining';
import {
  areWebgpuTrainingKernelsRegistered,
  registerWebgpuTrainingKernels,
  unregisterWebgpuTrainingKernels,
  WEBGPU_TRAINING_KERNEL_NAMES,
} from './register';

// The kernels themselves run only in a browser's WebGPU (e2e/webgpuKernels.spec.ts); here, their registration.
beforeAll(async () => {
  await import('@tensorflow/tfjs-backend-webgpu');
});
afterAll(() => unregisterWebgpuTrainingKernels());

describe('registerWebgpuTrainingKernels', () => {
  it("puts ours in through the override registry, idempotently, and puts tfjs' back", () => {
    const shipped = tf.getKernel(tf.Conv2DBackpropFilter, 'webgpu')?.kernelFunc;
    expect(shipped).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'webgpu')).toBeUndefined();
    registerWebgpuTrainingKernels();
    registerWebgpuTrainingKernels();
    expect(areWebgpuTrainingKernelsRegistered()).toBe(true);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'webgpu')?.kernelFunc).not.toBe(shipped);
    for (const name of WEBGPU_TRAINING_KERNEL_NAMES) expect(tf.getKernel(name, 'webgpu'), name).toBeDefined();
    // Only the webgpu backend's kernels change.
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'cpu')).toBeUndefined();
    unregisterWebgpuTrainingKernels();
    expect(areWebgpuTrainingKernelsRegistered()).toBe(false);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'webgpu')?.kernelFunc).toBe(shipped);
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'webgpu')).toBeUndefined();
  });
});
