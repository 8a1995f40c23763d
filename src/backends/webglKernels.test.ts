// Node has no WebGL: the kernels' values and gradients are checked against the cpu backend in Chromium's WebGL by
// e2e/webglKernels.spec.ts. Here: their registration, and the arithmetic that cuts a reduction into chunks.
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../model/batchNormTraining';
import { originalKernel } from './kernelOverrides';
import {
  registerWebglTrainingKernels,
  unregisterWebglTrainingKernels,
  webglTrainingKernelsActive,
} from './webglKernels';
import { webglConv2DBackpropFilter } from './webglConvGradients';
import { webglSum } from './webglSum';
import { glslFloat, ROWS_A_FOLD, rowsAChunk, TERMS_A_FRAGMENT } from './webglReduce';

afterEach(() => registerWebglTrainingKernels());

describe('WebGL training kernels', () => {
  it('replace the filter gradient and add the BatchNorm kernels, keep the shipped kernel to fall back to, and go back', () => {
    const shipped = tf.getKernel(tf.Conv2DBackpropFilter, 'webgl');
    unregisterWebglTrainingKernels();
    const original = tf.getKernel(tf.Conv2DBackpropFilter, 'webgl');
    expect(original?.kernelFunc).not.toBe(webglConv2DBackpropFilter);
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'webgl')).toBeUndefined();

    registerWebglTrainingKernels();
    registerWebglTrainingKernels();
    expect(webglTrainingKernelsActive()).toBe(true);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'webgl')?.kernelFunc).toBe(webglConv2DBackpropFilter);
    expect(originalKernel('webgl', tf.Conv2DBackpropFilter)).toBe(original);
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'webgl')).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAINING_GRAD, 'webgl')).toBeDefined();
    expect(tf.getKernel(tf.Sum, 'webgl')?.kernelFunc).toBe(webglSum);
    // Other backends untouched.
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'cpu')).toBeUndefined();

    unregisterWebglTrainingKernels();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'webgl')).toBe(original);
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'webgl')).toBeUndefined();
    expect(webglTrainingKernelsActive()).toBe(false);
    expect(shipped).toBeDefined();
  });
});

describe('split reductions', () => {
  it('give a chunk about TERMS_A_FRAGMENT terms, at least one row, never more rows than there are', () => {
    // 150 px, batch 32, the first layer's filter gradient: 32·149 rows of 149 products.
    const rows = rowsAChunk(32 * 149, 149);
    expect(rows).toBe(7);
    expect(rows * 149).toBeGreaterThanOrEqual(TERMS_A_FRAGMENT);
    expect(Math.ceil((32 * 149) / rows)).toBe(682);
    expect(rowsAChunk(10, 5000)).toBe(1);
    expect(rowsAChunk(3, 2)).toBe(3);
    expect(rowsAChunk(1, 0)).toBe(1);
    // 682 chunks fold in three passes.
    let chunks = 682;
    let passes = 0;
    for (; chunks > 1; passes++) chunks = Math.ceil(chunks / ROWS_A_FOLD);
    expect(passes).toBe(3);
  });

  it('write GLSL float literals', () => {
    expect(glslFloat(710432)).toBe('710432.0');
    expect(glslFloat(0.001)).toBe('0.001');
    expect(glslFloat(1e-7)).toBe('1e-7');
  });
});
