import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/models';
import { evaluationBatchSize, MAX_EVALUATION_BATCH } from './evaluationBatch';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model = (name: 'tutorial' | 'batchnorm', imageSize: number) =>
  buildModel(name, { imageSize, numClasses: 2, learningRate: 0.001, seed: 1 });

describe('evaluationBatchSize', () => {
  it('keeps the training batch on the CPU backends', () => {
    const m = model('batchnorm', 64);
    expect(evaluationBatchSize(m, 32, 'cpu')).toBe(32);
    expect(evaluationBatchSize(m, 32, 'wasm')).toBe(32);
    m.dispose();
  });

  it("on a GPU: as many images as a training step's activations held, never fewer than training's, at most 256", () => {
    for (const [name, size, expected] of [
      ['batchnorm', 150, 70],
      ['batchnorm', 64, 69],
      ['tutorial', 150, 43],
    ] as const) {
      const m = model(name, size);
      // The forward pass's tensors an image: the input, then every layer's output.
      const sizes = [size * size, ...m.layers.map((l) => (l.outputShape as number[]).slice(1).reduce((a, b) => a * b))];
      const held = sizes.slice(1).reduce((a, b) => a + b);
      const peak = Math.max(...sizes.slice(1).map((s, i) => s + sizes[i]));
      const batch = evaluationBatchSize(m, 32, 'webgpu');
      expect(batch).toBe(expected);
      expect(batch).toBe(Math.min(MAX_EVALUATION_BATCH, Math.floor((32 * held) / peak)));
      expect(batch * peak).toBeLessThanOrEqual(32 * held);
      expect(evaluationBatchSize(m, 32, 'webgl')).toBe(batch);
      expect(evaluationBatchSize(m, 1024, 'webgl')).toBe(1024);
      m.dispose();
    }
  });
});
