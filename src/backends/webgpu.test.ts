import { afterEach, describe, expect, it } from 'vitest';
import { WebgpuStarter } from './webgpu';

/** Shows this realm a navigator with `gpu` (or none) for one test. */
function withNavigator(gpu: unknown): void {
  Object.defineProperty(globalThis, 'navigator', {
    value: gpu === undefined ? {} : { gpu },
    configurable: true,
    writable: true,
  });
}
const own = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
afterEach(() => {
  if (own) Object.defineProperty(globalThis, 'navigator', own);
  else delete (globalThis as { navigator?: unknown }).navigator;
});

const neverStarted = async () => {
  throw new Error('must not be started');
};

describe('WebgpuStarter', () => {
  it('says when the browser has no WebGPU at all', async () => {
    withNavigator(undefined);
    expect(await new WebgpuStarter().start(neverStarted)).toBe('this browser has no WebGPU; navigator.gpu is missing');
  });

  it('passes over a browser without an adapter at once, without loading the backend', async () => {
    withNavigator({ requestAdapter: async () => null });
    expect(await new WebgpuStarter().start(neverStarted)).toMatch(/^the browser offers no WebGPU adapter/);
  });

  it('does not wait long for a browser that never answers', async () => {
    withNavigator({ requestAdapter: () => new Promise(() => {}) });
    expect(await new WebgpuStarter(50).start(neverStarted)).toBe(
      'the browser could not be asked for a WebGPU adapter (no answer within 0.05 s)',
    );
  });

  it('names a software adapter', async () => {
    withNavigator({ requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader' } }) });
    const starter = new WebgpuStarter();
    // The package loads in Node too (its backend is registered, never started here): then the given start answers.
    expect(await starter.start(async (name) => (name === 'webgpu' ? 'not here' : 'wrong backend'))).toBe('not here');
    expect(starter.softwareWarning()).toBe(
      'WebGPU runs in software here (swiftshader), not on a GPU: training will be slow.',
    );
  });
});
