import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/models';
import { syntheticSet } from '../model/testImages.testutil';
import { makeBatch } from './batches';
import { cpuLayout, withCpuGather } from './cpuGather.testutil';
import { evaluateInBatches } from './evaluate';
import { ResidentSplits } from './residentSplits';

// Resident splits on the cpu backend with a gather kernel that unpacks as the GPU programs do (cpuGather.testutil.ts);
// the GPU programs are compared with the CPU path in Chromium (e2e/webglKernels.spec.ts, e2e/webgpuKernels.spec.ts).
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const floats = (t: tf.Tensor) => Array.from(t.dataSync());

describe('ResidentSplits', () => {
  it('holds splits within one budget, makes the rest on the CPU with the same floats, and frees them all', () =>
    withCpuGather(cpuLayout(3), async () => {
      const train = syntheticSet(6, 8, 2, 1);
      const validation = syntheticSet(4, 8, 2, 2);
      const before = tf.memory().numTensors;
      // 6 images of 64 bytes, 3 a word: 128 words, 512 bytes; validation 86 words, 344 bytes.
      const splits = new ResidentSplits(512 + 343);
      expect(await splits.upload(train)).not.toBeNull();
      expect(await splits.upload(train)).toBe(await splits.upload(train));
      expect(await splits.upload(validation)).toBeNull();
      expect(splits.reason(validation)).toMatch(/344 bytes exceed the 343 left/);
      expect(splits.bytes).toBe(512);
      for (const [set, indices] of [
        [train, [5, 0, 2]],
        [validation, [3, 1]],
      ] as const) {
        const ours = splits.batch(set, indices, 2);
        const cpu = makeBatch(set, indices, 2);
        expect(floats(ours.xs)).toEqual(floats(cpu.xs));
        expect(floats(ours.ys)).toEqual(floats(cpu.ys));
        tf.dispose([ours.xs, ours.ys, cpu.xs, cpu.ys]);
      }
      // The training split's room goes to another.
      splits.release(train);
      const test = syntheticSet(4, 8, 2, 3);
      expect(await splits.upload(test)).not.toBeNull();
      expect(splits.bytes).toBe(344);
      splits.dispose();
      expect(splits.bytes).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    }));

  it("gives evaluateInBatches the CPU path's very metrics, in any evaluation batch", () =>
    withCpuGather(cpuLayout(3), async () => {
      const set = syntheticSet(13, 32, 2, 7);
      const model = buildModel('batchnorm', { imageSize: 32, numClasses: 2, learningRate: 0.001, seed: 3 });
      const penultimate = model.layers[model.layers.length - 2];
      const features = [
        { name: penultimate.name, size: (penultimate.outputShape as number[])[1], pooling: 'none' as const },
      ];
      const cpu = await evaluateInBatches(model, set, 2, 5, features);
      const splits = new ResidentSplits();
      // Its one packed copy, made once; then no tensor more or less after each evaluation.
      expect(await splits.upload(set)).not.toBeNull();
      for (const batchSize of [5, 13, 64]) {
        const before = tf.memory().numTensors;
        const ours = await evaluateInBatches(model, set, 2, batchSize, features, splits);
        expect(Array.from(ours.scores)).toEqual(Array.from(cpu.scores));
        expect(Array.from(ours.features!)).toEqual(Array.from(cpu.features!));
        expect([ours.loss, ours.accuracy]).toEqual([cpu.loss, cpu.accuracy]);
        expect(tf.memory().numTensors).toBe(before);
      }
      expect(splits.bytes).toBeGreaterThan(0);
      const predicted = await evaluateInBatches(model, set, 2, 64, undefined, splits);
      expect(Array.from(predicted.scores)).toEqual(Array.from(cpu.scores));
      splits.dispose();
      model.dispose();
    }));
});
