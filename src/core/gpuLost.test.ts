import { describe, expect, it } from 'vitest';
import {
  CONTEXT_LOST_MESSAGE,
  DEVICE_LOST_MESSAGE,
  gpuLostMessage,
  isGpuLostMessage,
  lostGpuIn,
  usesGpu,
} from './gpuLost';

describe('a lost GPU, in words', () => {
  it("keeps WebGL's message, and names WebGPU's device when it was WebGPU", () => {
    expect(CONTEXT_LOST_MESSAGE).toMatch(
      /^The GPU stopped working for this page \(the WebGL context was lost\): the browser or graphics driver reset it, /,
    );
    expect(DEVICE_LOST_MESSAGE).toBe(
      CONTEXT_LOST_MESSAGE.replace('the WebGL context was lost', 'the WebGPU device was lost'),
    );
    expect([gpuLostMessage('webgl'), gpuLostMessage('webgpu'), gpuLostMessage(null)]).toEqual([
      CONTEXT_LOST_MESSAGE,
      DEVICE_LOST_MESSAGE,
      CONTEXT_LOST_MESSAGE,
    ]);
  });

  it('knows which backends run on a GPU that can be lost', () => {
    expect(['webgl', 'webgpu', 'wasm', 'cpu', null].map(usesGpu)).toEqual([true, true, false, false, false]);
  });

  it("recognises the browsers' own words for a lost GPU", () => {
    expect(lostGpuIn('WebGL context lost.')).toBe(CONTEXT_LOST_MESSAGE);
    expect(lostGpuIn('CONTEXT_LOST_WEBGL')).toBe(CONTEXT_LOST_MESSAGE);
    expect(lostGpuIn("Failed to execute 'mapAsync' on 'GPUBuffer': Device is lost")).toBe(DEVICE_LOST_MESSAGE);
    expect(lostGpuIn('GPUDevice was destroyed')).toBe(DEVICE_LOST_MESSAGE);
    expect(lostGpuIn('out of memory')).toBe('');
  });

  it('lets the page tell a lost GPU from any other failure, for either API', () => {
    expect(isGpuLostMessage(CONTEXT_LOST_MESSAGE)).toBe(true);
    expect(isGpuLostMessage(DEVICE_LOST_MESSAGE)).toBe(true);
    expect(isGpuLostMessage('Something went wrong while training: boom')).toBe(false);
  });
});
