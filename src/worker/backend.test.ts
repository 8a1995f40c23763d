import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { chooseBackend, CONTEXT_LOST_MESSAGE, isWebglContextLost, TRAINING_KERNELS, watchWebglContextLoss } from './backend';
import { explainError, UserError } from './explainError';

// Node has no WebGL: these tests see the fallbacks a browser without a usable GPU would see.
// tfjs logs its own failed attempts; keep the test output readable.
const quiet = [vi.spyOn(console, 'warn').mockImplementation(() => {}), vi.spyOn(console, 'log').mockImplementation(() => {})];
afterAll(() => quiet.forEach((spy) => spy.mockRestore()));

describe('chooseBackend', () => {
  it('uses the CPU when asked, saying it is slow', async () => {
    const choice = await chooseBackend('cpu');
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.note).toMatch(/much slower/);
  });

  it('falls back from WebGL to the CPU with the reason', async () => {
    for (const requested of ['auto', 'webgl'] as const) {
      const choice = await chooseBackend(requested);
      expect(choice.name).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
      expect(choice.note).toMatch(/^WebGL could not start in this browser \(.+\); training on the CPU backend, which is much slower\.$/);
    }
  });

  it('says WebGPU is not available, then falls back', async () => {
    const choice = await chooseBackend('webgpu');
    expect(choice.name).toBe('cpu');
    expect(choice.note).toMatch(/^WebGPU is not included in this app yet/);
    expect(choice.note).toMatch(/WebGL could not start/);
  });

  it('registers the missing training kernels for WASM before trusting it', async () => {
    const choice = await chooseBackend('wasm');
    // The WASM binary is served by the app at a URL Vite emits; whether Node can load it from there or not,
    // the answer is either a working WASM backend or a fallback that says why, never a missing kernel.
    expect(choice.note).not.toMatch(/cannot train this CNN/);
    if (choice.name !== 'wasm') expect(choice.note).toMatch(/WASM backend could not start/);
    for (const kernel of TRAINING_KERNELS) expect(tf.getKernel(kernel, 'wasm')).toBeDefined();
    await tf.setBackend('cpu');
  });

  it('auto with a model shape measures each backend that starts and says what it measured', async () => {
    const choice = await chooseBackend('auto', { imageSize: 32, numClasses: 2, batchSize: 8 });
    expect(choice.note).toMatch(/Measured on training steps of this model at 32 px: webgl unavailable \(.+\), wasm /);
    expect(['wasm', 'cpu']).toContain(choice.name);
    expect(tf.getBackend()).toBe(choice.name);
    await tf.setBackend('cpu');
  });

  it('has no WebGL context to lose on the CPU', async () => {
    await chooseBackend('cpu');
    expect(isWebglContextLost()).toBe(false);
    const stop = watchWebglContextLoss(() => {
      throw new Error('must not be called');
    });
    stop();
  });
});

describe('explainError', () => {
  const context = { action: 'training', backend: 'webgl', contextLost: false };

  it('passes messages written for people through unchanged', () => {
    expect(explainError(new UserError('Press Stop first.'), context)).toBe('Press Stop first.');
  });

  it('explains a lost GPU context, however it shows', () => {
    expect(explainError(new Error('whatever'), { ...context, contextLost: true })).toBe(CONTEXT_LOST_MESSAGE);
    expect(explainError(new Error('WebGL context lost.'), context)).toBe(CONTEXT_LOST_MESSAGE);
  });

  it('suggests smaller batches when memory runs out, keeping the raw message', () => {
    const message = explainError(new Error('Requested texture size [70000x2] greater than WebGL maximum'), context);
    expect(message).toMatch(/^The GPU ran out of memory while training\. Choose a smaller batch size or image size/);
    expect(message).toMatch(/70000x2/);
    expect(explainError(new RangeError('Array buffer allocation failed'), { ...context, backend: 'cpu' })).toMatch(/^The browser ran out of memory/);
  });

  it('says what was being done for anything else', () => {
    expect(explainError('boom', context)).toBe('Something went wrong while training: boom');
  });
});
