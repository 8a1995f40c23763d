import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { unregisterFastCpuKernels } from './cpuKernels';
import { TrainingBackends } from './trainingBackends';
import { TRAINING_KERNELS } from './wasm';
import { PROBE_BATCH_CAP, probeBatch, raceBackends } from './probe';

// The race runs for real; the spy sees what auto gives it.
vi.mock('./probe', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./probe')>();
  return { ...actual, raceBackends: vi.fn(actual.raceBackends) };
});
const race = vi.mocked(raceBackends);

// Node has no WebGL: these tests see the fallbacks a browser without a usable GPU would see.
// tfjs logs its own failed attempts; keep the test output readable.
const quiet = [
  vi.spyOn(console, 'warn').mockImplementation(() => {}),
  vi.spyOn(console, 'log').mockImplementation(() => {}),
];
afterAll(() => quiet.forEach((spy) => spy.mockRestore()));

describe('TrainingBackends', () => {
  const backends = new TrainingBackends();

  it('make the cpu backend fast, and its Transform right, from the start', () => {
    const kernelName = (name: string) => tf.getKernel(name, 'cpu')?.kernelFunc.name;
    unregisterFastCpuKernels(); // nodeTests.setup.ts registered them
    expect(kernelName('Conv2DBackpropFilter')).not.toBe('conv2dBackpropFilter');
    new TrainingBackends();
    expect([kernelName('Conv2DBackpropFilter'), kernelName('MaxPoolGrad'), kernelName('Transform')]).toEqual([
      'conv2dBackpropFilter',
      'maxPoolGrad',
      'cpuTransform',
    ]);
  });

  it('uses the CPU when asked, saying it is slow', async () => {
    const choice = await backends.choose('cpu');
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.note).toMatch(/much slower/);
  });

  it('falls back from WebGL to the CPU with the reason', async () => {
    for (const requested of ['auto', 'webgl'] as const) {
      const choice = await backends.choose(requested);
      expect(choice.name).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
      expect(choice.note).toMatch(
        /^WebGL could not start in this browser \(.+\); training on the CPU backend, which is much slower\.$/,
      );
    }
  });

  it('says why WebGPU cannot be used, then falls back', async () => {
    // Node has no navigator.gpu (the browser's answers are in webgpu.test.ts and e2e/webgpu.spec.ts).
    const choice = await backends.choose('webgpu');
    expect(choice.name).toBe('cpu');
    expect(choice.note).toMatch(
      /^WebGPU cannot be used: this browser has no WebGPU; navigator\.gpu is missing\. WebGL could not start/,
    );
  });

  it('registers the missing training kernels for WASM before trusting it', async () => {
    const choice = await backends.choose('wasm');
    // The WASM binary is served by the app at a URL Vite emits; whether Node can load it from there or not,
    // the answer is either a working WASM backend or a fallback that says why, never a missing kernel.
    expect(choice.note).not.toMatch(/cannot train this CNN/);
    if (choice.name !== 'wasm') expect(choice.note).toMatch(/WASM backend could not start/);
    for (const kernel of TRAINING_KERNELS) expect(tf.getKernel(kernel, 'wasm')).toBeDefined();
    await tf.setBackend('cpu');
  });

  it('auto with a model shape measures each backend that starts and says what it measured', async () => {
    const choice = await backends.choose('auto', { imageSize: 32, numClasses: 2, batchSize: 8 });
    expect(choice.note).toMatch(
      /Measured on training steps of this model at 32 px: webgl unavailable \(.+\), wasm .+, webgpu unavailable \(this browser has no WebGPU; navigator\.gpu is missing\)\.$/,
    );
    expect(['wasm', 'cpu']).toContain(choice.name);
    expect(tf.getBackend()).toBe(choice.name);
    await tf.setBackend('cpu');
  });

  it("auto races WebGL, WebAssembly and WebGPU on the run's own shape, batch size included", async () => {
    race.mockClear();
    const shape = { imageSize: 32, numClasses: 2, batchSize: 1000 };
    const choice = await backends.choose('auto', shape);
    expect(race).toHaveBeenCalledTimes(1);
    const [candidates, raced] = race.mock.calls[0];
    expect(candidates.map((c) => c.name)).toEqual(['webgl', 'wasm', 'webgpu']);
    // The race times at this batch, capped (probeBatch, probe.test.ts).
    expect(raced).toBe(shape);
    expect(probeBatch(raced)).toBe(PROBE_BATCH_CAP);
    // WebAssembly is never a software GPU; here no GPU backend started, so none was found to be one.
    expect(candidates.map((c) => c.software())).toEqual([false, false, false]);
    expect(choice.note).toMatch(/Measured on training steps of this model at 32 px: webgl unavailable/);
    await tf.setBackend('cpu');
  });

  it("has no WebGL context to lose on the CPU, and Keras' epsilon there", async () => {
    await backends.choose('cpu');
    expect(backends.isContextLost()).toBe(false);
    expect(backends.optimizerEpsilon()).toBe(1e-7);
    const stop = backends.watchContextLoss(() => {
      throw new Error('must not be called');
    });
    stop();
  });
});
