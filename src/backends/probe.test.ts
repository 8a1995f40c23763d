import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeOutcomes, fastest, msPerImage } from './probe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('backend probe', () => {
  it('times real training steps and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    let clock = 0;
    // A fake clock: each call advances 40 ms, so a timed step of 8 images costs 5 ms an image.
    const ms = await msPerImage({ imageSize: 32, numClasses: 2, batchSize: 32 }, () => (clock += 40));
    expect(ms).toBeCloseTo(40 / 8);
    expect(tf.memory().numTensors).toBe(before);
    const real = await msPerImage({ imageSize: 32, numClasses: 3, batchSize: 4 });
    expect(real).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('picks the fastest backend that started and says what it measured', () => {
    const outcomes = [
      { name: 'webgl', msPerImage: 20, problem: null },
      { name: 'wasm', msPerImage: 2, problem: null },
      { name: 'webgpu', msPerImage: null, problem: 'not included' },
    ];
    expect(fastest(outcomes)?.name).toBe('wasm');
    expect(describeOutcomes(outcomes)).toBe('webgl 50 images/s, wasm 500 images/s, webgpu unavailable (not included)');
    expect(fastest([{ name: 'webgl', msPerImage: null, problem: 'x' }])).toBeNull();
  });

  it('never lets a software GPU win while another backend runs, and says which ran in software', () => {
    const outcomes = [
      { name: 'webgl', msPerImage: 1, problem: null, software: true },
      { name: 'wasm', msPerImage: 5, problem: null },
      { name: 'webgpu', msPerImage: 0.5, problem: null, software: true },
    ];
    expect(fastest(outcomes)?.name).toBe('wasm');
    expect(describeOutcomes(outcomes)).toBe(
      'webgl 1000 images/s, wasm 200 images/s, webgpu 2000 images/s' +
        ' (webgl and webgpu in software: never picked while another backend runs)',
    );
    // A real GPU that is faster wins.
    const realGpu = { name: 'webgpu', msPerImage: 0.5, problem: null, software: false };
    expect(fastest([{ name: 'wasm', msPerImage: 5, problem: null }, realGpu])?.name).toBe('webgpu');
    // Only a software GPU runs: better than nothing.
    const softwareGpu = { name: 'webgl', msPerImage: 9, problem: null, software: true };
    expect(fastest([{ name: 'wasm', msPerImage: null, problem: 'x' }, softwareGpu])?.name).toBe('webgl');
  });
});
