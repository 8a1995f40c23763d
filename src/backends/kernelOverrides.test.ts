import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  areOverriding,
  callOriginal,
  originalKernel,
  overrideKernels,
  restoreKernels,
  type KernelFunc,
} from './kernelOverrides';

/** A backend name no backend uses: kernels registered for it exist in tfjs' registry only. */
const FAKE = 'kernel-overrides-test';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  restoreKernels('cpu', [tf.Neg]);
  restoreKernels(FAKE, ['Shipped', 'Missing']);
  for (const name of ['Shipped', 'Missing']) if (tf.getKernel(name, FAKE)) tf.unregisterKernel(name, FAKE);
});

/** A cpu Neg that counts its calls and lets the shipped kernel compute. */
function countingNeg(): { neg: KernelFunc; calls: () => number } {
  let count = 0;
  const neg = ((args: unknown) => {
    count++;
    return callOriginal('cpu', tf.Neg, args);
  }) as KernelFunc;
  return { neg, calls: () => count };
}

const negate = async (values: number[]) => Array.from(await tf.neg(tf.tensor1d(values)).data());

describe('kernel overrides', () => {
  it('run the replacement, which can call the shipped kernel; registering twice is harmless', async () => {
    const shipped = tf.getKernel(tf.Neg, 'cpu');
    const { neg, calls } = countingNeg();
    const overrides = [{ kernelName: tf.Neg, kernelFunc: neg }];
    overrideKernels('cpu', overrides);
    overrideKernels('cpu', overrides);
    expect(tf.getKernel(tf.Neg, 'cpu')?.kernelFunc).toBe(neg);
    expect(areOverriding('cpu', overrides)).toBe(true);
    // The original is the shipped kernel, not the replacement registered over it the second time.
    expect(originalKernel('cpu', tf.Neg)).toBe(shipped);
    expect(await negate([1, -2])).toEqual([-1, 2]);
    expect(calls()).toBe(1);
  });

  it('restore the shipped kernel, and forget it', async () => {
    const shipped = tf.getKernel(tf.Neg, 'cpu')?.kernelFunc;
    const { neg, calls } = countingNeg();
    const overrides = [{ kernelName: tf.Neg, kernelFunc: neg }];
    overrideKernels('cpu', overrides);
    restoreKernels('cpu', [tf.Neg]);
    restoreKernels('cpu', [tf.Neg]); // twice is harmless too
    expect(tf.getKernel(tf.Neg, 'cpu')?.kernelFunc).toBe(shipped);
    expect(areOverriding('cpu', overrides)).toBe(false);
    expect(originalKernel('cpu', tf.Neg)).toBeUndefined();
    expect(await negate([3])).toEqual([-3]);
    expect(calls()).toBe(0);
    expect(() => callOriginal('cpu', tf.Neg, {})).toThrow(/No shipped 'Neg' kernel of the cpu backend/);
  });

  it("keep the shipped kernel's setup and dispose functions for the replacement", () => {
    const setupFunc = () => {};
    const disposeFunc = () => {};
    const shipped: tf.KernelConfig = {
      kernelName: 'Shipped',
      backendName: FAKE,
      kernelFunc: (() => null) as unknown as KernelFunc,
      setupFunc,
      disposeFunc,
    };
    tf.registerKernel(shipped);
    const ours = (() => null) as unknown as KernelFunc;
    overrideKernels(FAKE, [{ kernelName: 'Shipped', kernelFunc: ours }]);
    expect(tf.getKernel('Shipped', FAKE)).toMatchObject({ kernelFunc: ours, setupFunc, disposeFunc });
    restoreKernels(FAKE, ['Shipped']);
    expect(tf.getKernel('Shipped', FAKE)).toBe(shipped);
  });

  it('add a kernel the backend lacks unless told to skip it, and remove it on restore', () => {
    const ours = [{ kernelName: 'Missing', kernelFunc: (() => null) as unknown as KernelFunc }];
    overrideKernels(FAKE, ours, { ifMissing: 'skip' });
    expect(tf.getKernel('Missing', FAKE)).toBeUndefined();
    overrideKernels(FAKE, ours);
    expect(tf.getKernel('Missing', FAKE)?.kernelFunc).toBe(ours[0].kernelFunc);
    expect(originalKernel(FAKE, 'Missing')).toBeNull();
    expect(() => callOriginal(FAKE, 'Missing', {})).toThrow(/No shipped 'Missing' kernel/);
    restoreKernels(FAKE, ['Missing']);
    expect(tf.getKernel('Missing', FAKE)).toBeUndefined();
  });
});
