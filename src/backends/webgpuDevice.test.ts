import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { TrainingBackends } from './trainingBackends';
import {
  followWebgpuDevice,
  isWebgpuDeviceLost,
  replaceLostWebgpu,
  watchWebgpuDeviceLoss,
  webgpuDeviceLostWithin,
} from './webgpuDevice';

/** A stand-in 'webgpu' backend (Node has no WebGPU) whose device is lost when `lose` is called. */
async function fakeWebgpu(): Promise<{ lose: () => void; factory: () => tf.KernelBackend }> {
  let lose = () => {};
  const lost = new Promise<unknown>((resolve) => (lose = () => resolve({ reason: 'destroyed' })));
  const backend = Object.assign(new tf.KernelBackend(), { device: { lost }, dispose: () => {} });
  const factory = () => backend;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', factory, 0);
  await tf.setBackend('webgpu');
  return { lose, factory };
}

afterEach(async () => {
  await tf.setBackend('cpu');
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
});

describe('a lost WebGPU device', () => {
  it('is noticed while a run watches, and not after it stopped watching', async () => {
    const { lose } = await fakeWebgpu();
    const calls: string[] = [];
    const stopFirst = watchWebgpuDeviceLoss(() => calls.push('first'));
    const stopSecond = watchWebgpuDeviceLoss(() => calls.push('second'));
    stopFirst();
    expect(isWebgpuDeviceLost()).toBe(false);
    lose();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(['second']);
    expect(isWebgpuDeviceLost()).toBe(true);
    stopSecond();
  });

  it('is waited for briefly when a run fails first, and not long when the device is fine', async () => {
    const { lose } = await fakeWebgpu();
    expect(await webgpuDeviceLostWithin(20)).toBe(false);
    setTimeout(lose, 10);
    expect(await webgpuDeviceLostWithin(5_000)).toBe(true);
  });

  it('is replaced by a fresh backend at the next choice, and only once lost', async () => {
    const { lose, factory } = await fakeWebgpu();
    followWebgpuDevice(); // as TrainingBackends does once WebGPU has started
    expect(replaceLostWebgpu()).toBe(false);
    expect(tf.findBackendFactory('webgpu')).toBe(factory);
    lose();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await tf.setBackend('cpu');
    expect(replaceLostWebgpu()).toBe(true);
    expect(tf.findBackendFactory('webgpu')).not.toBe(factory);
    // The fresh backend is not started here: it would ask the browser for a new adapter and device.
    expect(tf.engine().registry['webgpu']).toBeUndefined();
  });

  it("counts as the training backends' lost GPU", async () => {
    const backends = new TrainingBackends();
    const { lose } = await fakeWebgpu();
    let told = 0;
    const stop = backends.watchContextLoss(() => told++);
    expect(backends.isContextLost()).toBe(false);
    lose();
    expect(await backends.confirmLoss()).toBe(true);
    expect([backends.isContextLost(), told]).toEqual([true, 1]);
    stop();
  });
});

describe('no WebGPU backend', () => {
  it('has no device to lose off WebGPU', async () => {
    await tf.setBackend('cpu');
    expect(isWebgpuDeviceLost()).toBe(false);
    expect(await webgpuDeviceLostWithin(10_000)).toBe(false);
    watchWebgpuDeviceLoss(() => {
      throw new Error('must not be called');
    })();
    expect(replaceLostWebgpu()).toBe(false);
  });
});
