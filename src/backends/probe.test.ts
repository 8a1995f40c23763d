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
});
