import { describe, expect, it } from 'vitest';
import { CONTEXT_LOST_MESSAGE } from '../backends/webgl';
import { DEVICE_LOST_MESSAGE } from '../core/gpuLost';
import { explainError, UserError } from './explainError';

describe('explainError', () => {
  const context = { action: 'training', backend: 'webgl', contextLost: false };

  it('passes messages written for people through unchanged', () => {
    expect(explainError(new UserError('Press Stop first.'), context)).toBe('Press Stop first.');
  });

  it('explains a lost GPU context, however it shows', () => {
    expect(explainError(new Error('whatever'), { ...context, contextLost: true })).toBe(CONTEXT_LOST_MESSAGE);
    expect(explainError(new Error('WebGL context lost.'), context)).toBe(CONTEXT_LOST_MESSAGE);
  });

  it('names WebGPU, not WebGL, when a WebGPU device was lost', () => {
    expect(explainError(new Error('whatever'), { ...context, backend: 'webgpu', contextLost: true })).toBe(
      DEVICE_LOST_MESSAGE,
    );
    expect(
      explainError(new Error("Failed to execute 'mapAsync' on 'GPUBuffer': Device is lost"), {
        ...context,
        backend: 'webgpu',
      }),
    ).toBe(DEVICE_LOST_MESSAGE);
    expect(DEVICE_LOST_MESSAGE).toMatch(/\(the WebGPU device was lost\)/);
    expect(DEVICE_LOST_MESSAGE).not.toMatch(/WebGL/);
  });

  it('suggests smaller batches when memory runs out, keeping the raw message', () => {
    const message = explainError(new Error('Requested texture size [70000x2] greater than WebGL maximum'), context);
    expect(message).toMatch(/^The GPU ran out of memory while training\. Choose a smaller batch size or image size/);
    expect(message).toMatch(/70000x2/);
    expect(explainError(new RangeError('Array buffer allocation failed'), { ...context, backend: 'cpu' })).toMatch(
      /^The browser ran out of memory/,
    );
  });

  it('says what was being done for anything else', () => {
    expect(explainError('boom', context)).toBe('Something went wrong while training: boom');
  });
});
