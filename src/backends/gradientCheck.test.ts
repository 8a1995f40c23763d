import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compareGradientsWithCpu, describeComparison, GRADIENT_TOLERANCE, relativeDifference } from './gradientCheck';

// tfjs greets each new backend in Node with advice on tfjs-node; keep the test output readable.
const quiet = vi.spyOn(console, 'log').mockImplementation(() => {});

/** A copy of the cpu backend whose Conv2DBackpropFilter is 1% off: the kind of kernel fault the check is for. */
const SKEWED = 'skewed-cpu';
tf.registerBackend(SKEWED, () => new (tf.backend().constructor as new () => tf.KernelBackend)());
for (const kernel of tf.getKernelsForBackend('cpu')) {
  const kernelFunc: tf.KernelFunc =
    kernel.kernelName === 'Conv2DBackpropFilter'
      ? (args) => {
          const out = kernel.kernelFunc(args) as tf.TensorInfo;
          const values = (args.backend as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(
            out.dataId,
          ).values;
          for (let i = 0; i < values.length; i++) values[i] *= 1.01;
          return out;
        }
      : kernel.kernelFunc;
  tf.registerKernel({ ...kernel, backendName: SKEWED, kernelFunc });
}
afterAll(async () => {
  await tf.setBackend('cpu');
  tf.removeBackend(SKEWED);
  quiet.mockRestore();
});

describe('gradients against the cpu backend', () => {
  it('finds none between the cpu backend and itself', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const comparison = await compareGradientsWithCpu('cpu');
    expect(comparison.largest).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(describeComparison(comparison)).toBe('0.0e+0 (tolerance 1e-3)');
  });

  it('catches a kernel 1% off, names where, and leaves that backend current', async () => {
    const comparison = await compareGradientsWithCpu(SKEWED);
    expect(comparison.largest).toBeGreaterThan(GRADIENT_TOLERANCE);
    expect(comparison.largest).toBeCloseTo(0.01, 3);
    expect(comparison.where).toMatch(/conv2d_\d\/kernel$/);
    expect(tf.getBackend()).toBe(SKEWED);
  });

  it('measures relative to the expected gradient, and a NaN or a missing value is the worst', () => {
    expect(relativeDifference(Float32Array.of(1.1, 0), Float32Array.of(1, 0))).toBeCloseTo(0.1, 6);
    expect(relativeDifference(Float32Array.of(1), Float32Array.of(1, 2))).toBe(Infinity);
    expect(relativeDifference(Float32Array.of(NaN), Float32Array.of(1))).toBeNaN();
  });
});
